/**
 * `run()`: execute an agent on a task as a durable run. Every model call and tool call is a
 * journaled step; a run resumed after a crash replays committed steps from the journal (no model
 * call, no tool execution) and continues from the first step that was not committed.
 *
 * This file starts and resumes runs; the loop itself is in `run-loop.ts` (phases that return a
 * `NextStep`), the model turn in `model-turn.ts`, the limits in `run-limits.ts`, and every way a
 * run ends in `run-end.ts`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Engine, RunRecord } from '../engine/engine.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { UserError } from '../errors.js';
import { modelLabel } from '../models/model-label.js';
import type { JsonValue, Model } from '../models/spec.js';
import { createRunTelemetry } from '../telemetry/run-telemetry.js';
import type { Agent } from './agent.js';
import type { Attachment } from './attachments.js';
import { createEventChannel } from './event-channel.js';
import type { RunEvent } from './events.js';
import { executeRun } from './run-loop.js';
import type { RunHandle, RunOptions } from './run-types.js';

export type { BudgetRule } from './run-costs.js';
export { modelFacingToolName } from './run-request.js';
export type { RunHandle, RunOptions, RunResult } from './run-types.js';
export type { StopReason } from './stop-reason.js';

/** Start a new run of `agent` on `input`. */
export function run(agent: Agent, input: string, options: RunOptions = {}): RunHandle {
  if (typeof input !== 'string' || input.trim() === '')
    throw new TypeError('run(): `input` must be a non-empty string');
  const runId = options.runId ?? `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  return startHandle(
    runId,
    options,
    async (engine) => {
      if (await engine.getRun(runId)) {
        throw new UserError(
          'usage',
          `a run with id ${runId} already exists; resume it with resume() or choose another id.`,
        );
      }
      return engine.createRun({
        id: runId,
        agentName: agent.name,
        model: modelName(agent.model),
        input,
        spec: agentSpec(agent, options.attachments),
        // Every run with tools has a workspace: the given one, or a fresh directory of its own.
        workspace:
          options.workspace ?? (agent.tools.length > 0 ? mkdtempSync(join(tmpdir(), `hataraku-${runId}-`)) : undefined),
        tenant: options.tenant,
        parentRunId: options.parentRunId,
      });
    },
    agent,
  );
}

/**
 * Put a run in the journal's shared queue without executing it: a worker (`hataraku worker`,
 * or `engine.takeRuns`) on any machine sharing the journal takes it and runs it with the agent
 * it rebuilds from the recorded description. Its workspace must be reachable from there.
 */
export async function submit(
  agent: Agent,
  input: string,
  options: {
    engine: Engine;
    runId?: string;
    workspace?: string;
    tenant?: string;
    /** Images or PDFs given with the task, kept in the journal like a started run's. */
    attachments?: Attachment[];
  },
): Promise<RunRecord> {
  if (typeof input !== 'string' || input.trim() === '')
    throw new TypeError('submit(): `input` must be a non-empty string');
  const runId = options.runId ?? `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  if (await options.engine.getRun(runId)) {
    throw new UserError('usage', `a run with id ${runId} already exists; choose another id.`);
  }
  const record = await options.engine.createRun({
    id: runId,
    agentName: agent.name,
    model: modelName(agent.model),
    input,
    spec: agentSpec(agent, options.attachments),
    workspace: options.workspace,
    tenant: options.tenant,
    queued: true,
  });
  await options.engine.sync();
  return record;
}

/**
 * Continue a run recorded in the journal from its last committed step. A finished run returns
 * its recorded result without executing anything; a failed run is reopened and continued.
 */
export function resume(agent: Agent, runId: string, options: RunOptions = {}): RunHandle {
  return startHandle(
    runId,
    options,
    async (engine) => {
      const record = await engine.getRun(runId);
      if (!record)
        throw new UserError(
          'run_not_found',
          `no run with id ${runId} in the journal; list runs with \`hataraku runs list\`.`,
        );
      if (record.status === 'completed' || record.status === 'stopped') return record;
      if (record.status === 'failed') await engine.reopenRun(runId);
      if (!(await engine.claimRun(runId))) {
        const owner = (await engine.getRun(runId))?.owner ?? 'another process';
        throw new UserError(
          'run_not_resumable',
          `run ${runId} is being executed by ${owner}; it can be resumed once that process ends or its lease expires.`,
        );
      }
      return (await engine.getRun(runId)) as RunRecord;
    },
    agent,
  );
}

function startHandle(
  runId: string,
  options: RunOptions,
  open: (engine: Engine) => Promise<RunRecord>,
  agent: Agent,
): RunHandle {
  const channel = createEventChannel<RunEvent>();
  const observe = options.telemetry ? createRunTelemetry(options.telemetry) : undefined;
  const publish = (event: RunEvent) => {
    observe?.(event);
    options.onEvent?.(event);
    channel.publish(event);
  };
  const result = (async () => {
    await Promise.resolve(); // let the caller subscribe to events first
    const release = options.gate ? await options.gate.acquire() : undefined;
    const ownsEngine = options.engine === undefined;
    const engine =
      options.engine ??
      openSqliteEngine({
        path: resolve(options.journalPath ?? '.hataraku/hataraku.db'),
        ...(options.faults ? { faults: options.faults } : {}),
      });
    try {
      const record = await open(engine);
      return await executeRun({ agent, record, engine, options, publish, starters: { start: run, resume } });
    } finally {
      channel.close();
      if (ownsEngine) await engine.close();
      release?.();
    }
  })();
  return {
    runId,
    events: channel,
    result,
    // biome-ignore lint/suspicious/noThenProperty: a run handle is deliberately awaitable
    then(onFulfilled, onRejected) {
      return result.then(onFulfilled, onRejected);
    },
  };
}

function modelName(model: Model | string): string {
  return typeof model === 'string' ? model : modelLabel(model);
}

/** What the journal keeps about the agent, to rebuild it on resume (and the task's attachments). */
function agentSpec(agent: Agent, attachments: Attachment[] | undefined): JsonValue {
  return {
    ...(attachments && attachments.length > 0 ? { attachments: attachments as unknown as JsonValue } : {}),
    name: agent.name,
    instructions: agent.instructions,
    model: modelName(agent.model),
    tools: agent.tools.map((tool) => tool.name),
    limits: { ...agent.limits } as JsonValue,
    maxOutputTokens: agent.maxOutputTokens,
    temperature: agent.temperature ?? null,
  };
}
