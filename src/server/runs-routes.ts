/**
 * The Runs API: create a run of a configured agent (at once, or waiting for its end with
 * `?wait=true`), list and get runs, a run's steps, its live events (SSE, resumable with
 * `Last-Event-ID`), resume, cancel, approve and deny (audited as `key:<name>`), feedback on an
 * ended run's result (recorded as `key:<name>`), and costs.
 * Requests are validated with the schemas of `runs-api.ts`, which `/openapi.json` is generated
 * from.
 */
import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
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
  artifactFileRoute,
  artifactsRoute,
  cancelRoute,
  costSeriesRoute,
  costSummaryRoute,
  costsRoute,
  createRunRoute,
  denyRoute,
  eventsRoute,
  feedbackRoute,
  getRunRoute,
  listApprovalsRoute,
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
    const limit = query.limit ?? 50;
    // A key sees its own tenant only: asking for another tenant lists nothing.
    const tenant = canSeeRun(key, undefined) ? query.tenant : key.tenant;
    if (query.tenant && tenant !== query.tenant) return context.json({ runs: [] }, 200);
    const since = query.since ? Date.parse(query.since) : undefined;
    const until = query.until ? Date.parse(query.until) : undefined;
    const needle = query.q?.toLowerCase();
    const filtered = since !== undefined || until !== undefined || needle !== undefined;
    // Time and text filters apply to the newest 500 runs matching the other filters.
    const own = await engine.listRuns({
      limit: filtered ? 500 : limit,
      ...(query.status ? { status: query.status } : {}),
      ...(tenant ? { tenant } : {}),
      ...(query.agent ? { agentName: query.agent } : { excludeAgentName: 'gateway' }),
    });
    const matching = own
      .filter((run) => since === undefined || run.createdAt >= since)
      .filter((run) => until === undefined || run.createdAt < until)
      .filter((run) => needle === undefined || runText(run).includes(needle))
      .slice(0, limit);
    return context.json({ runs: await Promise.all(matching.map((run) => runView(engine, run))) }, 200);
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
    // Resuming runs the agent again: only a key that may run it.
    requireAgent(key, run.agentName);
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
    requireAgent(key, run.agentName);
    // Approving resumes the run, as resume does: the tenant's budget may have been spent while
    // the call waited. Refused, the approval stays pending.
    await requireBudget(engine, key);
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
    requireAgent(key, run.agentName);
    const body = context.req.valid('json');
    const result = await runs.decide(run.id, {
      outcome: 'deny',
      actor: `key:${key.name}`,
      note: body.reason,
      ...(body.stepIndex !== undefined ? { stepIndex: body.stepIndex } : {}),
    });
    return context.json(decisionView(result), 200);
  });

  app.openapi(feedbackRoute, async (context) => {
    const key = context.get('key');
    const run = await visibleRun(key, context.req.valid('param').id);
    requireAgent(key, run.agentName);
    if (run.status === 'pending' || run.status === 'waiting') {
      throw new ApiError(
        409,
        'invalid_request',
        `run ${run.id} is ${run.status}; feedback is on a result, so send it once the run has ended.`,
      );
    }
    const body = context.req.valid('json');
    const feedback = await engine.recordFeedback(run.id, {
      solved: body.solved,
      actor: `key:${key.name}`,
      ...(body.note !== undefined ? { note: body.note } : {}),
    });
    if (feedback === undefined) {
      throw new ApiError(404, 'run_not_found', `no run with id ${run.id} for this key; list runs with GET /runs.`);
    }
    return context.json({ ...feedback, note: feedback.note ?? null, at: new Date(feedback.at).toISOString() }, 200);
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

  app.openapi(listApprovalsRoute, async (context) => {
    const key = context.get('key');
    const query = context.req.valid('query');
    const approvals = await engine.listApprovals({ status: query.status ?? 'pending' });
    const runsById = new Map<string, Awaited<ReturnType<typeof engine.getRun>>>();
    const visible = [];
    for (const approval of [...approvals].sort((a, b) => b.requestedAt - a.requestedAt)) {
      if (!runsById.has(approval.runId)) runsById.set(approval.runId, await engine.getRun(approval.runId));
      const run = runsById.get(approval.runId);
      if (!run || !canSeeRun(key, run.tenant)) continue;
      visible.push({
        runId: approval.runId,
        agent: run.agentName,
        tenant: run.tenant ?? null,
        stepIndex: approval.stepIndex,
        toolName: approval.toolName,
        input: approval.input,
        reason: approval.reason,
        status: approval.status,
        requestedAt: new Date(approval.requestedAt).toISOString(),
        deadline: approval.deadline === undefined ? null : new Date(approval.deadline).toISOString(),
        decidedBy: approval.decidedBy ?? null,
        decidedAt: approval.decidedAt === undefined ? null : new Date(approval.decidedAt).toISOString(),
        note: approval.note ?? null,
      });
      if (visible.length >= (query.limit ?? 100)) break;
    }
    return context.json({ approvals: visible }, 200);
  });

  app.openapi(artifactsRoute, async (context) => {
    const run = await visibleRun(context.get('key'), context.req.valid('param').id);
    const artifacts = await engine.listArtifacts(run.id);
    return context.json(
      {
        artifacts: artifacts.map((artifact) => {
          const file = artifactPath(run.workspace, artifact.path);
          let size: number | null = null;
          try {
            size = file ? statSync(file).size : null;
          } catch {
            size = null;
          }
          return {
            stepIndex: artifact.stepIndex,
            path: artifact.path,
            mediaType: artifact.mediaType,
            description: artifact.description ?? null,
            createdAt: new Date(artifact.createdAt).toISOString(),
            size,
          };
        }),
      },
      200,
    );
  });

  app.openapi(artifactFileRoute, async (context) => {
    const run = await visibleRun(context.get('key'), context.req.valid('param').id);
    const wanted = context.req.valid('query').path;
    const artifact = (await engine.listArtifacts(run.id)).find((item) => item.path === wanted);
    const file = artifact ? artifactPath(run.workspace, artifact.path) : undefined;
    if (!artifact || !file) {
      throw new ApiError(
        404,
        'not_found',
        `run ${run.id} has no artifact "${wanted}" (or its file is gone); list them with GET /runs/${run.id}/artifacts.`,
      );
    }
    const body = await readFile(file);
    // Only raster images are shown inline; everything else (SVG and HTML included) is a download,
    // sandboxed, so a file a model wrote never runs as a page of this origin.
    const inline = /^image\/(png|jpeg|gif|webp)$/.test(artifact.mediaType);
    const name = artifact.path.split('/').pop() ?? 'artifact';
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': inline ? artifact.mediaType : 'application/octet-stream',
        'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${name.replace(/[^\w.-]/g, '_')}"`,
        'content-security-policy': "default-src 'none'; sandbox",
        'x-content-type-options': 'nosniff',
      },
    }) as never;
  });

  app.openapi(costSeriesRoute, async (context) => {
    const key = context.get('key');
    const query = context.req.valid('query');
    const by = query.by ?? 'model';
    const dayCount = query.days ?? 14;
    const today = new Date();
    const todayStart = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
    const starts = Array.from({ length: dayCount }, (_, index) => todayStart - (dayCount - 1 - index) * 86_400_000);
    const tenant = canSeeRun(key, undefined) ? {} : { tenant: key.tenant };
    // The ledger reports spend since a time: a day's spend is "since its start" less "since the next".
    const cumulative = await Promise.all(
      starts.map(async (since) => {
        const rows = await engine.costReport({ by, since, ...tenant });
        return new Map(rows.map((row) => [row.key, row.costUsd]));
      }),
    );
    const keys = [...new Set(cumulative.flatMap((rows) => [...rows.keys()]))];
    const series = keys
      .map((group) => {
        const costUsd = starts.map((_, index) => {
          const fromHere = cumulative[index]?.get(group) ?? 0;
          const fromNext = cumulative[index + 1]?.get(group) ?? 0;
          return Math.max(0, fromHere - fromNext);
        });
        return { key: group, costUsd, totalUsd: costUsd.reduce((sum, value) => sum + value, 0) };
      })
      .sort((a, b) => b.totalUsd - a.totalUsd);
    return context.json({ by, days: starts.map((start) => new Date(start).toISOString().slice(0, 10)), series }, 200);
  });

  app.openapi(costSummaryRoute, async (context) => {
    const key = context.get('key');
    const query = context.req.valid('query');
    const since = query.since ? Date.parse(query.since) : 0;
    const tenant = canSeeRun(key, undefined) ? {} : { tenant: key.tenant };
    const now = new Date();
    const periods = [
      {
        period: 'day' as const,
        limitUsd: key.budgetDayUsd,
        since: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()),
      },
      {
        period: 'month' as const,
        limitUsd: key.budgetMonthUsd,
        since: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1),
      },
    ];
    const budgets = [];
    for (const period of periods) {
      if (period.limitUsd === undefined) continue;
      const spentUsd = await engine.spentUsd({
        scope: 'tenant',
        key: key.tenant,
        since: period.since,
        limitUsd: period.limitUsd,
      });
      budgets.push({
        period: period.period,
        limitUsd: period.limitUsd,
        spentUsd,
        since: new Date(period.since).toISOString(),
      });
    }
    const byRun = await engine.costReport({ by: 'run', since, ...tenant });
    const agentRuns = (await engine.listRuns({ limit: 500, ...tenant, excludeAgentName: 'gateway' })).filter(
      (run) => run.createdAt >= since && run.parentRunId === undefined,
    );
    const agentRunIds = new Set(agentRuns.map((run) => run.id));
    const agentSpend = byRun.filter((row) => agentRunIds.has(row.key)).reduce((sum, row) => sum + row.costUsd, 0);
    const completedRuns = agentRuns.filter((run) => run.status === 'completed').length;
    const topRows = [...byRun].sort((a, b) => b.costUsd - a.costUsd).slice(0, query.top ?? 10);
    const topRuns = await Promise.all(
      topRows.map(async (row) => {
        const run = await engine.getRun(row.key);
        return {
          runId: row.key,
          agent: run?.agentName ?? null,
          status: run?.status ?? null,
          input: run ? run.input.slice(0, 200) : null,
          costUsd: row.costUsd,
        };
      }),
    );
    return context.json(
      {
        tenant: key.tenant,
        keyName: key.name,
        budgets,
        totalUsd: byRun.reduce((sum, row) => sum + row.costUsd, 0),
        completedRuns,
        costPerCompletedRunUsd: completedRuns > 0 ? agentSpend / completedRuns : null,
        topRuns,
      },
      200,
    );
  });

  return app;
}

/** The text a run is searched by. */
function runText(run: {
  id: string;
  agentName: string;
  model: string;
  input: string;
  output: unknown;
  error: string | undefined;
}) {
  const output = typeof run.output === 'string' ? run.output : JSON.stringify(run.output ?? '');
  return [run.id, run.agentName, run.model, run.input, output, run.error ?? ''].join('\n').toLowerCase();
}

/** The file of an artifact inside the run's workspace; undefined when it is gone or outside it. */
function artifactPath(workspace: string | undefined, path: string): string | undefined {
  if (!workspace) return undefined;
  try {
    const root = realpathSync(workspace);
    const file = realpathSync(resolve(root, path));
    const inside = relative(root, file);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
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
