/**
 * The contenders: one function per framework that sets it up once (tools, agent, journal) and
 * returns `runOnce()`, which times one whole scripted run with `process.hrtime.bigint()` and
 * checks that the run did what the script says (every tool call executed, the final answer
 * returned). Setup that a long-lived process does once (defining tools, opening the journal) is
 * outside the timed region; everything the framework does for a run is inside it.
 */
import { join } from 'node:path';
import { Agent as AgentsAgent, Runner as AgentsRunner, tool as agentsTool } from '@openai/agents-core';
import { tool as aiTool, generateText, stepCountIs } from 'ai';
import { z } from 'zod';
import { openSqliteEngine } from '../../dist/engine/index.js';
import { agent, run, tool } from '../../dist/index.js';
import { createScriptedModel } from '../../dist/testing/index.js';
import { createAgentsScriptedModel, createAiSdkScriptedModel } from './peer-models.mjs';
import { addCalls, addNumbers, buildScript, finalAnswerText } from './script.mjs';

const instructions = 'You add numbers with the add tool, then say you are done.';
const task = 'Add the scripted pairs of numbers.';
const addDescription = 'Add two numbers and return the sum.';
const addInput = () => z.object({ a: z.number(), b: z.number() });

function check(framework, condition, what) {
  if (!condition) throw new Error(`${framework}: the benchmark run went wrong: ${what}`);
}

function expectToolCalls(framework, before, turns) {
  const executed = addCalls.count - before;
  check(framework, executed === turns, `expected ${turns} tool calls, the tool ran ${executed} times`);
}

/**
 * Hataraku's `run()` with its real scripted model and a SQLite journal. `journalPath` is a file
 * (WAL, group commit, as `openSqliteEngine` always opens it) or `:memory:`.
 *
 * A new scripted model and agent are made for each run (outside the timer): the scripted model
 * keeps every request it receives, and a product process makes them per run too.
 */
export function hatarakuContender({ turns, journalPath, durability = 'process' }) {
  const framework = `Hataraku (${journalPath === ':memory:' ? 'memory' : `file, ${durability}`} journal)`;
  const script = buildScript(turns);
  const journal = openSqliteEngine({ path: journalPath, durability });
  const addTool = tool({ name: 'add', description: addDescription, input: addInput(), execute: addNumbers });
  const expected = finalAnswerText(turns);

  return {
    journal,
    async runOnce() {
      const model = createScriptedModel({ script, modelId: 'bench' });
      const worker = agent({ name: 'bench', instructions, model, tools: [addTool], limits: { maxSteps: turns + 1 } });
      const before = addCalls.count;
      const started = process.hrtime.bigint();
      const result = await run(worker, task, { engine: journal });
      const elapsed = process.hrtime.bigint() - started;
      check(framework, result.status === 'completed', `status ${result.status} (${result.stopReason})`);
      check(framework, result.output === expected, `output ${JSON.stringify(result.output)}`);
      check(framework, result.totals.modelCalls === turns + 1, `${result.totals.modelCalls} model calls`);
      expectToolCalls(framework, before, turns);
      return elapsed;
    },
    close() {
      journal.close();
    },
  };
}

/** Vercel AI SDK: `generateText` with `tools` and `stopWhen: stepCountIs(turns + 1)`. */
export function aiSdkContender({ turns }) {
  const framework = 'AI SDK';
  const model = createAiSdkScriptedModel(buildScript(turns));
  const tools = {
    add: aiTool({ description: addDescription, inputSchema: addInput(), execute: async (input) => addNumbers(input) }),
  };
  const expected = finalAnswerText(turns);

  return {
    async runOnce() {
      const before = addCalls.count;
      const started = process.hrtime.bigint();
      const result = await generateText({
        model,
        system: instructions,
        prompt: task,
        tools,
        stopWhen: stepCountIs(turns + 1),
      });
      const elapsed = process.hrtime.bigint() - started;
      check(framework, result.text === expected, `text ${JSON.stringify(result.text)}`);
      check(framework, result.steps.length === turns + 1, `${result.steps.length} steps`);
      expectToolCalls(framework, before, turns);
      return elapsed;
    },
    close() {},
  };
}

/**
 * OpenAI Agents SDK (agents-core): `runner.run(agent, input, { maxTurns: turns + 1 })` on a
 * `Runner` with tracing disabled, defaults otherwise. Without `@openai/agents` (which exports
 * traces to OpenAI) agents-core's default trace exporter prints every span to the console; that
 * is not loop overhead, and a production set-up either ships traces elsewhere or turns them off.
 */
export function agentsSdkContender({ turns }) {
  const framework = 'OpenAI Agents SDK';
  const addTool = agentsTool({
    name: 'add',
    description: addDescription,
    parameters: addInput(),
    execute: async (input) => addNumbers(input),
  });
  const worker = new AgentsAgent({
    name: 'bench',
    instructions,
    model: createAgentsScriptedModel(buildScript(turns)),
    tools: [addTool],
  });
  const runner = new AgentsRunner({ tracingDisabled: true });
  const expected = finalAnswerText(turns);

  return {
    async runOnce() {
      const before = addCalls.count;
      const started = process.hrtime.bigint();
      const result = await runner.run(worker, task, { maxTurns: turns + 1 });
      const elapsed = process.hrtime.bigint() - started;
      check(framework, result.finalOutput === expected, `final output ${JSON.stringify(result.finalOutput)}`);
      expectToolCalls(framework, before, turns);
      return elapsed;
    },
    close() {},
  };
}

/** The journal file a file-journal contender writes, inside `directory`. */
export function journalFileIn(directory, name = 'journal') {
  return join(directory, `${name}.db`);
}
