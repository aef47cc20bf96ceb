/**
 * The Runs API: create a run of a configured agent (at once, or waiting for its end with
 * `?wait=true`), list and get runs, a run's steps, its live events (SSE, resumable with
 * `Last-Event-ID`), resume, cancel, approve and deny (audited as `key:<name>`), and costs.
 * Requests are validated with the schemas of `runs-api.ts`, which `/openapi.json` is generated
 * from.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { RunHandle } from '../agent/run.js';
import type { Hataraku } from '../hataraku.js';
import { ApiError, describeValidation } from './api-error.js';
import { type AuthVariables, canSeeRun, requireAgent, requireBudget } from './auth.js';
import type { EventLog, SequencedEvent } from './event-log.js';
import type { RunService } from './run-service.js';
import { runView } from './run-view.js';
import {
  approveRoute,
  cancelRoute,
  costsRoute,
  createRunRoute,
  denyRoute,
  eventsRoute,
  getRunRoute,
  listRunsRoute,
  resumeRoute,
  stepsRoute,
} from './runs-api.js';

export interface RunsRoutesOptions {
  hataraku: Hataraku;
  runs: RunService;
  events: EventLog;
  /** Longest `?wait=true` waits before answering with the run as it is (default 120 s). */
  maxWaitMs?: number;
  /** Interval of SSE keep-alive comments (default 15 s). */
  keepAliveMs?: number;
}

export function runsRoutes(options: RunsRoutesOptions) {
  const { hataraku, runs, events } = options;
  const engine = hataraku.engine;
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({
    // A request that fails its schema becomes one `invalid_request` error naming the fields.
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === 'json' ? 'body' : result.target;
        throw new ApiError(400, 'invalid_request', describeValidation(result.error, where));
      }
    },
  });

  const visibleRun = async (key: AuthVariables['key'], runId: string) => {
    const run = await engine.getRun(runId);
    if (!run || !canSeeRun(key, run.tenant)) {
      throw new ApiError(404, 'run_not_found', `no run with id ${runId} for this key; list runs with GET /runs.`);
    }
    return run;
  };

  app.openapi(createRunRoute, async (context) => {
    const key = context.get('key');
    const body = context.req.valid('json');
    const agentName = body.agent ?? 'hataraku';
    requireAgent(key, agentName);
    await requireBudget(engine, key);
    const handle = runs.start({ agent: agentName, input: body.input, tenant: key.tenant });
    if (context.req.valid('query').wait === 'true') {
      await Promise.race([
        handle.result.catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, options.maxWaitMs ?? 120_000).unref()),
      ]);
      const run = await visibleRun(key, handle.runId);
      return context.json(await runView(engine, run), 200);
    }
    // Let the run be recorded before answering, so a GET right after finds it.
    const run = await waitForRecord(engine, handle);
    return context.json(
      run ? await runView(engine, run) : queuedView(handle.runId, agentName, body.input, key.tenant),
      202,
    );
  });

  app.openapi(listRunsRoute, async (context) => {
    const key = context.get('key');
    const query = context.req.valid('query');
    // Other tenants' runs are never shown; gateway calls (one run each) only when asked for.
    const own = await engine.listRuns({
      limit: query.limit ?? 50,
      ...(query.status ? { status: query.status } : {}),
      ...(canSeeRun(key, undefined) ? {} : { tenant: key.tenant }),
      ...(query.agent ? { agentName: query.agent } : { excludeAgentName: 'gateway' }),
    });
    return context.json({ runs: await Promise.all(own.map((run) => runView(engine, run))) }, 200);
  });

  app.openapi(getRunRoute, async (context) => {
    const run = await visibleRun(context.get('key'), context.req.valid('param').id);
    return context.json(await runView(engine, run), 200);
  });

  app.openapi(stepsRoute, async (context) => {
    const run = await visibleRun(context.get('key'), context.req.valid('param').id);
    const steps = await engine.listSteps(run.id);
    return context.json({ steps: steps.map((step) => ({ ...step }) as Record<string, unknown>) }, 200);
  });

  app.openapi(eventsRoute, async (context) => {
    const run = await visibleRun(context.get('key'), context.req.valid('param').id);
    const lastEventId = Number(context.req.valid('header')['last-event-id'] ?? '0');
    return streamSSE(context, async (stream) => {
      const queue: SequencedEvent[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = events.subscribe(run.id, (event) => {
        queue.push(event);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      let sent = lastEventId;
      const send = async (item: SequencedEvent): Promise<boolean> => {
        if (item.seq <= sent) return false;
        await stream.writeSSE({ id: String(item.seq), event: item.event.type, data: JSON.stringify(item.event) });
        sent = item.seq;
        return item.event.type === 'run-end' && item.event.status !== 'waiting';
      };
      try {
        for (const item of events.since(run.id, lastEventId)) if (await send(item)) return;
        const current = await engine.getRun(run.id);
        if (current && current.status !== 'pending' && current.status !== 'waiting' && !runs.active(run.id)) {
          // The run ended while the recorded events were read: its last events are in the queue.
          for (const item of queue.splice(0)) if (await send(item)) return;
          return;
        }
        while (!stream.aborted) {
          const item = queue.shift();
          if (item) {
            if (await send(item)) return;
            continue;
          }
          const timedOut = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(true), options.keepAliveMs ?? 15_000);
            wake = () => {
              clearTimeout(timer);
              resolve(false);
            };
          });
          wake = undefined;
          if (timedOut && !stream.aborted) await stream.write(': keep-alive\n\n');
        }
      } finally {
        unsubscribe();
      }
    });
  });

  app.openapi(resumeRoute, async (context) => {
    const key = context.get('key');
    const run = await visibleRun(key, context.req.valid('param').id);
    await requireBudget(engine, key);
    await runs.resume(run.id);
    return context.json(await runView(engine, (await engine.getRun(run.id)) ?? run), 202);
  });

  app.openapi(cancelRoute, async (context) => {
    const run = await visibleRun(context.get('key'), context.req.valid('param').id);
    if (run.status !== 'pending' && run.status !== 'waiting') {
      throw new ApiError(
        409,
        'run_not_resumable',
        `run ${run.id} has already ended (${run.status}); nothing to cancel.`,
      );
    }
    return context.json(await runView(engine, await runs.cancel(run.id)), 200);
  });

  app.openapi(approveRoute, async (context) => {
    const key = context.get('key');
    const run = await visibleRun(key, context.req.valid('param').id);
    const body = (context.req.header('content-type')?.includes('json') ? context.req.valid('json') : {}) ?? {};
    const result = await runs.decide(run.id, {
      outcome: 'approve',
      actor: `key:${key.name}`,
      ...(body.stepIndex !== undefined ? { stepIndex: body.stepIndex } : {}),
      ...(body.note !== undefined ? { note: body.note } : {}),
    });
    return context.json(decisionView(result), 200);
  });

  app.openapi(denyRoute, async (context) => {
    const key = context.get('key');
    const run = await visibleRun(key, context.req.valid('param').id);
    const body = context.req.valid('json');
    const result = await runs.decide(run.id, {
      outcome: 'deny',
      actor: `key:${key.name}`,
      note: body.reason,
      ...(body.stepIndex !== undefined ? { stepIndex: body.stepIndex } : {}),
    });
    return context.json(decisionView(result), 200);
  });

  app.openapi(costsRoute, async (context) => {
    const key = context.get('key');
    const query = context.req.valid('query');
    if (query.runId) await visibleRun(key, query.runId);
    const rows = await engine.costReport({
      by: query.by ?? 'model',
      ...(query.since ? { since: Date.parse(query.since) } : {}),
      ...(query.runId ? { runId: query.runId } : {}),
      ...(canSeeRun(key, undefined) ? {} : { tenant: key.tenant }),
    });
    return context.json({ rows }, 200);
  });

  return app;
}

function decisionView(result: Awaited<ReturnType<RunService['decide']>>) {
  return {
    result: result.kind,
    stepIndex: result.approval.stepIndex,
    status: result.approval.status,
    decidedBy: result.approval.decidedBy ?? null,
  };
}

/**
 * The run's journal record once it is written; undefined when the run still waits for a slot
 * (more runs than the instance runs at once). A run that fails before it is recorded throws.
 */
async function waitForRecord(engine: Hataraku['engine'], handle: RunHandle) {
  let failure: unknown;
  handle.result.catch((error: unknown) => {
    failure = error;
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    const run = await engine.getRun(handle.runId);
    if (run) return run;
    if (failure !== undefined) throw failure;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return undefined;
}

function queuedView(id: string, agent: string, input: string, tenant: string) {
  const now = new Date().toISOString();
  return {
    id,
    agent,
    model: '',
    input,
    status: 'pending' as const,
    stopReason: null,
    output: null,
    error: null,
    tenant,
    createdAt: now,
    updatedAt: now,
    totals: {
      steps: 0,
      modelCalls: 0,
      toolCalls: 0,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      costUsd: 0,
      unpricedModelCalls: 0,
    },
    pendingApprovals: [],
  };
}
