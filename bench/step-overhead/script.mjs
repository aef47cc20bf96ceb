/**
 * The one scripted conversation every contender replays, and the one tool logic they all call.
 *
 * The script is written in Hataraku's script format (the format `createScriptedModel` reads), so
 * Hataraku replays it through its real scripted model; the peer models in `peer-models.mjs`
 * read the very same object. Turn `i` (0-based, `i < turns`) is a single `add` tool call with
 * arguments `{ a: i, b: i + 1 }`; the last turn is a text answer. Every turn reports fixed usage,
 * so no contender's model spends time estimating tokens.
 *
 * Arguments differ from turn to turn on purpose: Hataraku refuses a third identical tool call
 * (`maxIdenticalToolCalls`), and a benchmark of the loop must not trip a guard.
 */

/** Usage reported by every scripted turn, by every contender. */
export const turnUsage = Object.freeze({ inputTokens: 100, outputTokens: 10 });

/** The final answer text of a script with `turns` tool turns. */
export function finalAnswerText(turns) {
  return `Done: added ${turns} pairs of numbers.`;
}

/**
 * Build the script: `turns` tool-call turns, then one final text turn.
 *
 * @param {number} turns
 */
export function buildScript(turns) {
  const scriptTurns = [];
  for (let index = 0; index < turns; index++) {
    scriptTurns.push({
      toolCalls: [{ name: 'add', arguments: { a: index, b: index + 1 } }],
      usage: { ...turnUsage },
    });
  }
  scriptTurns.push({ text: finalAnswerText(turns), usage: { ...turnUsage } });
  return { version: 1, description: 'step-overhead benchmark', turns: scriptTurns };
}

/** Call id of call `position` of turn `turnIndex`, the same rule as Hataraku's scripted model. */
export function scriptedCallId(turnIndex, position) {
  return `call_${turnIndex + 1}_${position + 1}`;
}

/**
 * The tool logic shared by all contenders. It counts its calls so that each run can check that
 * the framework really executed every scripted tool call.
 */
export const addCalls = { count: 0 };

export function addNumbers({ a, b }) {
  addCalls.count++;
  return a + b;
}
