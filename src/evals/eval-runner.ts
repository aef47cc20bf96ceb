/**
 * Running a suite: every task × model × repeat as a normal durable run, under one eval record in
 * the journal. The eval record is a run of its own (agent `hataraku-eval`) whose spec holds what
 * was asked (suite, models, repeats); each attempt is a child run with a deterministic id
 * (`<eval id>-<task>-m<model>-r<repeat>`), so running the same eval again (`--resume <id>`) finds
 * the finished attempts in the journal, resumes the interrupted ones from their last committed
 * step, and starts only the ones never started. Checks are re-run on each attempt's recorded
 * output and workspace, so they cost nothing to repeat.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunResult } from '../agent/run.js';
import type { StopReason } from '../agent/stop-reason.js';
import { UserError } from '../errors.js';
import type { Hataraku } from '../hataraku.js';
import type { JsonValue } from '../models/spec.js';
import { resolveInWorkspace } from '../toolchain/files/workspace-path.js';
import { type CheckResult, checksPassed, runChecks } from './checks/run-checks.js';
import type { LoadedSuite } from './load-suite.js';
import { type PreparedTask, prepareTask } from './task-agent.js';

/** The model name that runs each task with its own scripted demo model. */
export const demoModelName = 'demo';
/** The agent name of eval records in the journal. */
export const evalAgentName = 'hataraku-eval';

/** One task run by one model once, and how it went. */
export interface EvalAttempt {
  taskId: string;
  /** The task given to the agent. */
  input: string;
  model: string;
  repeat: number;
  runId: string;
  status: RunResult['status'] | 'failed';
  stopReason: StopReason;
  passed: boolean;
  checks: CheckResult[];
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  /** Model calls (agent steps). */
  steps: number;
  toolCalls: number;
  /** From the run's creation to its last update in the journal (includes any time it lay interrupted). */
  latencyMs: number;
  /** Model calls whose price is unknown (the cost is then a lower bound). */
  unpricedModelCalls: number;
  output: JsonValue | undefined;
  error?: string | undefined;
}

/** What the eval record keeps, to resume it. */
export interface EvalManifest {
  suitePath: string;
  suiteName: string;
  models: string[];
  repeats: number;
  grader?: string | undefined;
  budgetUsd?: number | undefined;
}

export interface EvalRunOptions {
  hataraku: Hataraku;
  suite: LoadedSuite;
  manifest: EvalManifest;
  /** Eval id: a new one, or an existing one to resume. */
  evalId: string;
  concurrency?: number;
  signal?: AbortSignal;
  onAttempt?: (attempt: EvalAttempt, done: number, total: number) => void;
}

export interface EvalRunResult {
  evalId: string;
  manifest: EvalManifest;
  attempts: EvalAttempt[];
  /** Attempts not finished because the eval was interrupted. */
  unfinished: number;
}

/** Start or resume an eval. */
export async function runEval(options: EvalRunOptions): Promise<EvalRunResult> {
  const { hataraku, suite, manifest, evalId } = options;
  const engine = hataraku.engine;
  const existing = await engine.getRun(evalId);
  if (existing !== undefined && existing.agentName !== evalAgentName) {
    throw new UserError('usage', `${evalId} is a run, not an eval; choose another --id.`);
  }
  if (existing === undefined) {
    await engine.createRun({
      id: evalId,
      agentName: evalAgentName,
      model: manifest.models.join(', '),
      input: manifest.suitePath,
      spec: manifest as unknown as JsonValue,
    });
    // The record only holds what was asked; whichever process finishes the eval closes it.
    await engine.releaseRun(evalId);
  }
  const root = join(dirname(hataraku.config.journal.path), 'evals', evalId);
  const grader = manifest.grader === undefined ? undefined : hataraku.model(manifest.grader);
  const jobs: Array<{ prepared: PreparedTask; model: string; modelIndex: number; repeat: number }> = [];
  for (const task of suite.suite.tasks) {
    const prepared = prepareTask(suite.suite, task, suite.directory, hataraku.config);
    manifest.models.forEach((model, modelIndex) => {
      for (let repeat = 0; repeat < manifest.repeats; repeat += 1) jobs.push({ prepared, model, modelIndex, repeat });
    });
  }
  for (const job of jobs) {
    if (job.model === demoModelName && job.prepared.demoModelPath === undefined) {
      throw new UserError(
        'usage',
        `task "${job.prepared.task.id}" has no demo model; give it "demoModel" in the suite or run it with a real --model.`,
      );
    }
  }
  const attempts: Array<EvalAttempt | undefined> = new Array(jobs.length).fill(undefined);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length && options.signal?.aborted !== true) {
      const position = next;
      next += 1;
      const job = jobs[position];
      if (job === undefined) break;
      const runId = `${evalId}-${job.prepared.task.id}-m${job.modelIndex}-r${job.repeat}`;
      const attempt = await runAttempt({ ...job, runId, root, hataraku, grader, options });
      if (attempt === undefined) continue;
      attempts[position] = attempt;
      done += 1;
      options.onAttempt?.(attempt, done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, jobs.length)) }, worker));
  const finished = attempts.filter((attempt) => attempt !== undefined);
  const unfinished = jobs.length - finished.length;
  if (unfinished === 0) {
    await engine.finishRun(evalId, {
      status: 'completed',
      stopReason: 'final-answer',
      output: { attempts: finished.length, solved: finished.filter((attempt) => attempt.passed).length },
    });
  }
  return { evalId, manifest, attempts: finished, unfinished };
}

async function runAttempt(job: {
  prepared: PreparedTask;
  model: string;
  repeat: number;
  runId: string;
  root: string;
  hataraku: Hataraku;
  grader: ReturnType<Hataraku['model']> | undefined;
  options: EvalRunOptions;
}): Promise<EvalAttempt | undefined> {
  const { prepared, hataraku, runId } = job;
  const engine = hataraku.engine;
  const workspace = join(job.root, runId);
  const modelName = job.model === demoModelName ? `scripted:${prepared.demoModelPath}` : job.model;
  const agent = prepared.agentFor(modelName);
  const maxCostUsd = job.options.manifest.budgetUsd;
  const runAgent = maxCostUsd === undefined ? agent : { ...agent, limits: { ...agent.limits, maxCostUsd } };
  const runOptions = { ...(job.options.signal ? { signal: job.options.signal } : {}) };
  const base = { taskId: prepared.task.id, input: prepared.input, model: job.model, repeat: job.repeat, runId };
  let result: RunResult | undefined;
  let error: string | undefined;
  try {
    if ((await engine.getRun(runId)) !== undefined) {
      result = await hataraku.resume(runAgent, runId, runOptions).result;
    } else {
      // A fresh workspace each time the attempt starts from nothing (a kill before the run was
      // recorded may have left a partial copy).
      rmSync(workspace, { recursive: true, force: true });
      mkdirSync(workspace, { recursive: true });
      if (prepared.workspaceSource !== undefined) cpSync(prepared.workspaceSource, workspace, { recursive: true });
      for (const [path, content] of Object.entries(prepared.files)) {
        const target = resolveInWorkspace(workspace, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
      }
      result = await hataraku.run(runAgent, prepared.input, {
        ...runOptions,
        runId,
        workspace,
        parentRunId: job.options.evalId,
      }).result;
    }
  } catch (caught) {
    if (job.options.signal?.aborted) return undefined;
    error = caught instanceof Error ? caught.message : String(caught);
  }
  if (job.options.signal?.aborted && result?.status !== 'completed' && result?.status !== 'stopped') return undefined;
  const record = await engine.getRun(runId);
  const totals = await engine.totals(runId);
  const output = result?.output ?? record?.output;
  const checks = existsSync(workspace)
    ? await runChecks(prepared.task.checks, { output, workspace, grader: job.grader, signal: job.options.signal })
    : [];
  const status = result?.status ?? 'failed';
  return {
    ...base,
    status,
    stopReason: result?.stopReason ?? 'error',
    passed: status === 'completed' && checksPassed(checks),
    checks,
    costUsd: totals.costUsd,
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    steps: totals.modelCalls,
    toolCalls: totals.toolCalls,
    latencyMs: record === undefined ? 0 : Math.max(0, record.updatedAt - record.createdAt),
    unpricedModelCalls: totals.unpricedModelCalls,
    output,
    ...(error === undefined ? {} : { error }),
  };
}

/** The manifest of a recorded eval, to resume it. */
export async function loadEvalManifest(hataraku: Hataraku, evalId: string): Promise<EvalManifest> {
  const record = await hataraku.engine.getRun(evalId);
  if (record === undefined || record.agentName !== evalAgentName) {
    throw new UserError(
      'usage',
      `no eval ${evalId} in the journal (${hataraku.config.journal.path}); list runs with \`hataraku runs list\`.`,
    );
  }
  return record.spec as unknown as EvalManifest;
}
