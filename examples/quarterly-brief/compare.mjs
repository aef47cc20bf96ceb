// Run the quarterly-brief task decomposed and by one agent, and print the comparison table of
// the README. Build first: `npm run build && node examples/quarterly-brief/compare.mjs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareQuarterlyBrief } from '../../dist/examples/quarterly-brief-comparison.js';

const directory = mkdtempSync(join(tmpdir(), 'hataraku-quarterly-brief-'));
try {
  const { decomposed, single } = await compareQuarterlyBrief(directory);
  const row = (label, pick) => `| ${label} | ${pick(decomposed)} | ${pick(single)} |`;
  const lines = [
    '| | decomposed (plan_and_run) | one agent |',
    '| --- | ---: | ---: |',
    row('status', (figures) => figures.status),
    row('runs', (figures) => figures.runs),
    row('model calls', (figures) => figures.modelCalls),
    row('tool calls', (figures) => figures.toolCalls),
    row('input tokens', (figures) => figures.inputTokens.toLocaleString('en-US')),
    row('output tokens', (figures) => figures.outputTokens.toLocaleString('en-US')),
    row('largest prompt (tokens)', (figures) => figures.largestPromptTokens.toLocaleString('en-US')),
    row('cost', (figures) => `$${figures.costUsd.toFixed(6)}`),
    row('wall time', (figures) => `${(figures.wallTimeMs / 1000).toFixed(2)} s`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
