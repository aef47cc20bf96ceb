/**
 * The server's runs: starting a run of a catalog agent for a key's tenant, resuming, cancelling,
 * deciding approvals, and the worker's recovery built in (runs a dead process left open, and
 * waiting runs whose approvals were decided). Every event of a run the server executes is
 * appended to the event log, so streams can be resumed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunHandle, RunResult } from '../agent/run.js';
import type { DecisionResult, RunRecord } from '../engine/engine.js';
import { UserError } from '../errors.js';
import type { Hataraku } from '../hataraku.js';
import type { AgentCatalog } from './agent-catalog.js';
import type { EventLog } from './event-log.js';

export interface RunService {
  /** Start a new run; it executes in the background. */
  start(request: { agent: string; input: string; tenant: string | undefined }): RunHandle;
  /**
   * Continue a pending, waiting or failed run in the background; true when it is executing here
   * now (also when it already was), false when it has ended.
   */
  resume(runId: string): Promise<boolean>;
  /** End an open run with status `stopped` and stop reason `cancelled`. */
  cancel(runId: string): Promise<RunRecord>;
  /** Decide an approval as `actor`; when the run has no pending approval left, it is resumed. */
  decide(
    runId: string,
    decision: { outcome: 'approve' | 'deny'; actor: string; stepIndex?: number; note?: string },
  ): Promise<DecisionResult>;
  /** The result of a run executing in this process, if it is. */
  active(runId: string): Promise<RunResult> | undefined;
  /** Resume every run that can be taken over now; returns how many were started. */
  recover(): Promise<number>;
  /** Stop executing: runs in progress stay pending, to be recovered. */
  close(): Promise<void>;
}

export function createRunService(init: {
  hataraku: Hataraku;
  agents: AgentCatalog;
  events: EventLog;
  /**
   * Run in the configured workspace (`workspace` in the config, else the server's directory)
   * instead of a new directory per run. Off by default: a caller over the network should not get
   * the server's files unless the operator says so.
   */
  sharedWorkspace?: boolean;
}): RunService {
  const { hataraku, agents, events } = init;
  const running = new Map<string, { handle: RunHandle; controller: AbortController }>();
  const shutdown = new AbortController();

  const track = (
    begin: (options: { signal: AbortSignal; onEvent: (event: Parameters<EventLog['append']>[0]) => void }) => RunHandle,
  ) => {
    const controller = new AbortController();
    const handle = begin({
      signal: AbortSignal.any([controller.signal, shutdown.signal]),
      onEvent: (event) => events.append(event),
    });
    running.set(handle.runId, { handle, controller });
    // A failed run is recorded as failed in the journal; the caller reads it from there.
    handle.result.then(
      () => running.delete(handle.runId),
      () => running.delete(handle.runId),
    );
    return handle;
  };

  const service: RunService = {
    start({ agent: agentName, input, tenant }) {
      const agent = agents.get(agentName);
      if (input.trim() === '') throw new UserError('usage', '"input" must be a non-empty task.');
      const workspace =
        init.sharedWorkspace || agent.tools.length === 0
          ? undefined
          : mkdtempSync(join(tmpdir(), 'hataraku-serve-run-'));
      return track((options) =>
        hataraku.run(agent, input, {
          ...options,
          approvalWait: 'return',
          ...(tenant ? { tenant } : {}),
          ...(workspace ? { workspace } : {}),
        }),
      );
    },
    async resume(runId) {
      if (running.has(runId)) return true;
      const record = await hataraku.engine.getRun(runId);
      if (!record) throw new UserError('run_not_found', `no run with id ${runId}.`);
      if (record.status === 'completed' || record.status === 'stopped') return false;
      const agent = agents.forRun(record);
      track((options) => hataraku.resume(agent, runId, { ...options, approvalWait: 'return' }));
      return true;
    },
    async cancel(runId) {
      const executing = running.get(runId);
      if (executing) {
        executing.controller.abort(new Error('cancelled'));
        await executing.handle.result.catch(() => undefined);
      }
      const record = await hataraku.engine.getRun(runId);
      if (!record) throw new UserError('run_not_found', `no run with id ${runId}.`);
      if (record.status === 'pending' || record.status === 'waiting') {
        if (record.owner && record.owner !== hataraku.engine.executorId && (record.leaseExpiresAt ?? 0) > Date.now()) {
          throw new UserError(
            'run_not_resumable',
            `run ${runId} is executing in another process (${record.owner}); cancel it there.`,
          );
        }
        await hataraku.engine.finishRun(runId, { status: 'stopped', stopReason: 'cancelled', output: undefined });
        const totals = await hataraku.engine.totals(runId);
        const { steps: _steps, ...snapshot } = totals;
        events.append({
          type: 'run-end',
          runId,
          status: 'stopped',
          stopReason: 'cancelled',
          output: undefined,
          error: undefined,
          totals: snapshot,
        });
      }
      return (await hataraku.engine.getRun(runId)) as RunRecord;
    },
    async decide(runId, decision) {
      const record = await hataraku.engine.getRun(runId);
      if (!record) throw new UserError('run_not_found', `no run with id ${runId}.`);
      const common = {
        actor: decision.actor,
        ...(decision.stepIndex !== undefined ? { stepIndex: decision.stepIndex } : {}),
      };
      const result =
        decision.outcome === 'approve'
          ? await hataraku.approve(runId, { ...common, ...(decision.note ? { note: decision.note } : {}) })
          : await hataraku.deny(runId, { ...common, reason: decision.note ?? 'denied' });
      const pending = await hataraku.engine.listApprovals({ runId, status: 'pending' });
      if (result.kind === 'applied' && pending.length === 0 && record.status === 'waiting') {
        await service.resume(runId).catch(() => undefined);
      }
      return result;
    },
    active: (runId) => running.get(runId)?.handle.result,
    async recover() {
      await hataraku.engine.expireApprovalDeadlines();
      const candidates = await hataraku.engine.recoverableRuns({ limit: 100 });
      let started = 0;
      for (const candidate of candidates) {
        if (running.has(candidate.id)) continue;
        try {
          if (await service.resume(candidate.id)) started++;
        } catch {
          // A run whose agent cannot be rebuilt here is left for the CLI or its own program.
        }
      }
      return started;
    },
    async close() {
      shutdown.abort(new Error('server shutting down'));
      await Promise.all([...running.values()].map(({ handle }) => handle.result.catch(() => undefined)));
    },
  };
  return service;
}
