/**
 * The agent of the recovery benchmark: two turns that each call a pure tool, then a final
 * answer after `finalDelayMs`. A run interrupted in that last turn has four committed steps;
 * resumed with `finalDelayMs: 0`, it needs one model call to finish.
 */
import { z } from 'zod';
import { agent, tool } from '../../dist/index.js';
import { createScriptedModel } from '../../dist/testing/index.js';

const count = tool({
  name: 'count',
  description: 'Say a number.',
  input: z.object({ n: z.number().int() }),
  execute: ({ n }) => `counted ${n}`,
});

export function recoveryAgent({ finalDelayMs }) {
  const model = createScriptedModel({
    script: {
      turns: [
        { toolCalls: [{ name: 'count', arguments: { n: 1 } }] },
        { toolCalls: [{ name: 'count', arguments: { n: 2 } }] },
        { text: 'Counted to two.', delayMs: finalDelayMs },
      ],
    },
  });
  return agent({ name: 'counter', instructions: 'Count.', model, tools: [count] });
}
