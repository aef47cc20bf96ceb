/**
 * The quarterly-brief task done twice, decomposed (a lead, four analysts in parallel, a writer,
 * a checker) and by one agent, each in a fresh workspace and journal, with the same scripted
 * model latencies and one price for every call: the figures for the example's README
 * (`node examples/quarterly-brief/compare.mjs` prints them).
 */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from '../agent/agent.js';
import { agent } from '../agent/agent.js';
import type { PriceSource } from '../cost/price-source.js';
import { loadRunTree, type RunTreeNode } from '../decomposition/run-tree.js';
import type { Engine } from '../engine/engine.js';
import { createHataraku } from '../hataraku.js';
import type { JsonValue } from '../models/spec.js';
import { quarterlyBriefExample, quarterlyBriefSingleAgent } from './quarterly-brief.js';

/** Illustrative prices of a small hosted model, the same for every call of both runs. */
export const comparisonPrices: PriceSource = {
  lookup: () => ({ inputPerMillion: 0.15, outputPerMillion: 0.6, source: 'comparison: $0.15 / $0.60 per million' }),
};

export interface ComparisonFigures {
  /** Runs in the tree (1 for the single agent). */
  runs: number;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** The largest prompt one call sent (input tokens). */
  largestPromptTokens: number;
  wallTimeMs: number;
  status: string;
  output: JsonValue | undefined;
  runId: string;
  workspace: string;
}

export async function compareQuarterlyBrief(directory: string): Promise<{
  decomposed: ComparisonFigures;
  single: ComparisonFigures;
}> {
  const example = quarterlyBriefExample();
  const lead = agent({
    name: example.name,
    instructions: example.instructions,
    model: `scripted:${example.demoModelPath}`,
    tools: example.tools,
    limits: example.limits,
  });
  const decomposed = await measure(join(directory, 'decomposed'), lead, example.task, example.workspaceSource);
  const single = await measure(
    join(directory, 'single'),
    quarterlyBriefSingleAgent(),
    example.task,
    example.workspaceSource,
  );
  return { decomposed, single };
}

async function measure(directory: string, worker: Agent, task: string, source: string): Promise<ComparisonFigures> {
  const workspace = join(directory, 'workspace');
  mkdirSync(directory, { recursive: true });
  cpSync(source, workspace, { recursive: true });
  // A directory without a config file: defaults, the journal in `.hataraku/` under it.
  const hataraku = createHataraku({ cwd: directory, env: {} });
  try {
    const started = performance.now();
    const result = await hataraku.run(worker, task, { workspace, prices: comparisonPrices });
    const wallTimeMs = performance.now() - started;
    const tree = (await loadRunTree(hataraku.engine, result.runId)) as RunTreeNode;
    const sums = await sumTree(hataraku.engine, tree);
    return { ...sums, wallTimeMs, status: result.status, output: result.output, runId: result.runId, workspace };
  } finally {
    await hataraku.close();
  }
}

async function sumTree(engine: Engine, node: RunTreeNode) {
  const totals = await engine.totals(node.runId);
  const steps = await engine.listSteps(node.runId);
  const figures = {
    runs: 1,
    modelCalls: totals.modelCalls,
    toolCalls: totals.toolCalls,
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    costUsd: totals.costUsd,
    largestPromptTokens: Math.max(0, ...steps.map((step) => step.usage?.inputTokens ?? 0)),
  };
  for (const child of node.children) {
    const below = await sumTree(engine, child);
    figures.runs += below.runs;
    figures.modelCalls += below.modelCalls;
    figures.toolCalls += below.toolCalls;
    figures.inputTokens += below.inputTokens;
    figures.outputTokens += below.outputTokens;
    figures.costUsd += below.costUsd;
    figures.largestPromptTokens = Math.max(figures.largestPromptTokens, below.largestPromptTokens);
  }
  return figures;
}
