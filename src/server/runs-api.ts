/**
 * The Runs API's contract: the zod schemas that validate its requests and describe its responses,
 * and its routes. `/openapi.json` is generated from these, so the document and the validation
 * cannot drift apart.
 */
import { createRoute, z } from '@hono/zod-openapi';

const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), type: z.string() }) })
  .openapi('Error');
const totalsSchema = z.object({
  steps: z.number(),
  modelCalls: z.number(),
  toolCalls: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  cachedInputTokens: z.number(),
  costUsd: z.number(),
  unpricedModelCalls: z.number(),
});
const jsonValue = z.unknown();
const runStatus = z.enum(['pending', 'waiting', 'completed', 'stopped', 'failed']);
const approvalStatus = z.enum(['pending', 'approved', 'denied']);
/** A time bound: an ISO date-time with offset, or a day (YYYY-MM-DD). */
const timeBound = () => z.iso.datetime({ offset: true }).or(z.iso.date());
/** How many rows a list answers with at most. */
const listLimit = () => z.coerce.number().int().min(1).max(500);
/** A response with a JSON body. */
const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
const runSchema = z
  .object({
    id: z.string(),
    agent: z.string(),
    model: z.string(),
    input: z.string(),
    status: runStatus,
    stopReason: z.string().nullable(),
    output: jsonValue,
    error: z.string().nullable(),
    tenant: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    totals: totalsSchema,
    pendingApprovals: z.array(
      z.object({
        stepIndex: z.number(),
        toolName: z.string(),
        input: jsonValue,
        reason: z.string(),
        deadline: z.string().nullable(),
      }),
    ),
  })
  .openapi('Run');
const runIdParam = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const errors = {
  400: jsonResponse(errorSchema, 'Invalid request'),
  401: jsonResponse(errorSchema, 'No or invalid API key'),
  404: jsonResponse(errorSchema, 'No such run'),
} as const;
const runResponse = (description: string) => jsonResponse(runSchema, description);

export const createRunRoute = createRoute({
  method: 'post',
  path: '/runs',
  summary: 'Start a run of a configured agent',
  request: {
    query: z.object({
      wait: z
        .enum(['true', 'false'])
        .optional()
        .openapi({ description: 'wait for the run to end (or to wait for an approval)' }),
    }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .strictObject({
              agent: z.string().min(1).optional().openapi({ description: 'agent name (default: "hataraku")' }),
              input: z.string().min(1, { error: 'the task, a non-empty string' }),
            })
            .openapi('NewRun'),
        },
      },
    },
  },
  responses: { 200: runResponse('The run, ended or waiting'), 202: runResponse('The run, started'), ...errors },
});

export const listRunsRoute = createRoute({
  method: 'get',
  path: '/runs',
  summary: "List the key's tenant's runs, newest first",
  request: {
    query: z.object({
      status: runStatus.optional(),
      agent: z
        .string()
        .min(1)
        .optional()
        .openapi({ description: 'only runs of this agent; `gateway` lists the gateway calls, left out otherwise' }),
      limit: listLimit().optional(),
      tenant: z
        .string()
        .min(1)
        .optional()
        .openapi({ description: "only this tenant's runs (a key sees only its own tenant anyway)" }),
      since: timeBound().optional().openapi({ description: 'only runs created at or after this time' }),
      until: timeBound().optional().openapi({ description: 'only runs created before this time' }),
      q: z.string().min(1).max(200).optional().openapi({
        description: "text search (case-insensitive) in the run's id, agent, model, input, output and error",
      }),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ runs: z.array(runSchema) }), 'Runs'),
    ...errors,
  },
});

export const getRunRoute = createRoute({
  method: 'get',
  path: '/runs/{id}',
  summary: 'Get a run',
  request: { params: runIdParam },
  responses: { 200: runResponse('The run'), ...errors },
});

export const stepsRoute = createRoute({
  method: 'get',
  path: '/runs/{id}/steps',
  summary: "A run's journaled steps",
  request: { params: runIdParam },
  responses: {
    200: jsonResponse(z.object({ steps: z.array(z.record(z.string(), jsonValue)) }), 'Steps'),
    ...errors,
  },
});

export const eventsRoute = createRoute({
  method: 'get',
  path: '/runs/{id}/events',
  summary: 'Live run events (Server-Sent Events); reconnect with Last-Event-ID to resume',
  request: {
    params: runIdParam,
    headers: z.object({ 'last-event-id': z.string().regex(/^\d+$/).optional() }),
  },
  responses: {
    200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'Event stream' },
    ...errors,
  },
});

export const resumeRoute = createRoute({
  method: 'post',
  path: '/runs/{id}/resume',
  summary: 'Continue a pending, waiting or failed run',
  request: { params: runIdParam },
  responses: { 202: runResponse('The run'), ...errors },
});

export const cancelRoute = createRoute({
  method: 'post',
  path: '/runs/{id}/cancel',
  summary: 'End an open run (status stopped, reason cancelled)',
  request: { params: runIdParam },
  responses: { 200: runResponse('The run'), ...errors },
});

const approveBody = z.strictObject({
  stepIndex: z.number().int().min(0).optional(),
  note: z.string().optional(),
});
const denyBody = z.strictObject({
  stepIndex: z.number().int().min(0).optional(),
  reason: z.string().min(1, { error: 'a reason the model will see' }),
});
const decisionResponse = z.object({
  result: z.enum(['applied', 'ignored']),
  stepIndex: z.number(),
  status: approvalStatus,
  decidedBy: z.string().nullable(),
});
export const approveRoute = createRoute({
  method: 'post',
  path: '/runs/{id}/approve',
  summary: 'Approve the tool call a run waits for; the run continues',
  request: {
    params: runIdParam,
    body: { required: false, content: { 'application/json': { schema: approveBody } } },
  },
  responses: {
    200: jsonResponse(decisionResponse, 'Decision'),
    ...errors,
  },
});
export const denyRoute = createRoute({
  method: 'post',
  path: '/runs/{id}/deny',
  summary: 'Deny the tool call a run waits for; the model is told the reason',
  request: {
    params: runIdParam,
    body: { required: true, content: { 'application/json': { schema: denyBody } } },
  },
  responses: {
    200: jsonResponse(decisionResponse, 'Decision'),
    ...errors,
  },
});

const feedbackBody = z
  .strictObject({
    solved: z.boolean({ error: 'true when the run solved its task, false when it did not' }),
    note: z.string().max(4000).optional().openapi({ description: 'why, kept with the feedback' }),
  })
  .openapi('RunFeedbackRequest');
const feedbackResponse = z
  .object({
    runId: z.string(),
    solved: z.boolean(),
    note: z.string().nullable(),
    actor: z.string().openapi({ description: '`key:<name>` of the key that sent it' }),
    at: z.string(),
  })
  .openapi('RunFeedback');
export const feedbackRoute = createRoute({
  method: 'post',
  path: '/runs/{id}/feedback',
  summary: "Say whether an ended run's result was right: the labels `hataraku routes train --from ledger` learns from",
  request: {
    params: runIdParam,
    body: { required: true, content: { 'application/json': { schema: feedbackBody } } },
  },
  responses: {
    200: { content: { 'application/json': { schema: feedbackResponse } }, description: 'The recorded feedback' },
    ...errors,
  },
});

export const costsRoute = createRoute({
  method: 'get',
  path: '/costs',
  summary: "The key's tenant's spend, grouped",
  request: {
    query: z.object({
      by: z.enum(['model', 'agent', 'day', 'run', 'tenant']).optional(),
      since: timeBound().optional(),
      runId: z.string().optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        rows: z.array(
          z.object({
            key: z.string(),
            calls: z.number(),
            inputTokens: z.number(),
            outputTokens: z.number(),
            cachedInputTokens: z.number(),
            costUsd: z.number(),
            unpricedCalls: z.number(),
          }),
        ),
      }),
      'Cost rows',
    ),
    ...errors,
  },
});

const approvalSchema = z
  .object({
    runId: z.string(),
    agent: z.string(),
    tenant: z.string().nullable(),
    stepIndex: z.number(),
    toolName: z.string(),
    input: jsonValue,
    reason: z.string(),
    status: approvalStatus,
    requestedAt: z.string(),
    deadline: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
  })
  .openapi('Approval');

export const listApprovalsRoute = createRoute({
  method: 'get',
  path: '/approvals',
  summary: "Approvals of the key's tenant's runs, newest first (default: the waiting ones)",
  request: {
    query: z.object({
      status: approvalStatus.optional().openapi({ description: 'default `pending`' }),
      limit: listLimit().optional(),
    }),
  },
  responses: {
    200: jsonResponse(z.object({ approvals: z.array(approvalSchema) }), 'Approvals'),
    ...errors,
  },
});

const artifactSchema = z
  .object({
    stepIndex: z.number(),
    path: z.string(),
    mediaType: z.string(),
    description: z.string().nullable(),
    createdAt: z.string(),
    size: z.number().nullable().openapi({ description: 'bytes; null when the file is gone' }),
  })
  .openapi('Artifact');

export const artifactsRoute = createRoute({
  method: 'get',
  path: '/runs/{id}/artifacts',
  summary: 'The files a run produced (charts, reports)',
  request: { params: runIdParam },
  responses: {
    200: jsonResponse(z.object({ artifacts: z.array(artifactSchema) }), 'Artifacts'),
    ...errors,
  },
});

export const artifactFileRoute = createRoute({
  method: 'get',
  path: '/runs/{id}/artifacts/file',
  summary: "An artifact's content; images inline, other files as a download",
  request: {
    params: runIdParam,
    query: z.object({ path: z.string().min(1).openapi({ description: 'the artifact path, as listed' }) }),
  },
  responses: {
    200: { content: { 'application/octet-stream': { schema: z.string() } }, description: 'The file' },
    ...errors,
  },
});

const costGroup = z.enum(['model', 'agent', 'tenant']);
export const costSeriesRoute = createRoute({
  method: 'get',
  path: '/costs/series',
  summary: 'Spend per UTC day over the last days, split by model, agent or tenant',
  request: {
    query: z.object({
      by: costGroup.optional().openapi({ description: 'default `model`' }),
      days: z.coerce.number().int().min(1).max(90).optional().openapi({ description: 'default 14, today included' }),
    }),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          by: costGroup,
          days: z.array(z.string()).openapi({ description: 'YYYY-MM-DD, oldest first' }),
          series: z.array(z.object({ key: z.string(), costUsd: z.array(z.number()), totalUsd: z.number() })),
        })
        .openapi('CostSeries'),
      'Daily spend per group',
    ),
    ...errors,
  },
});

const budgetSchema = z.object({
  period: z.enum(['day', 'month']),
  limitUsd: z.number(),
  spentUsd: z.number(),
  since: z.string(),
});
export const costSummaryRoute = createRoute({
  method: 'get',
  path: '/costs/summary',
  summary: "The key's budgets and their use, cost per completed run, and the costliest runs",
  request: {
    query: z.object({
      since: timeBound().optional(),
      top: z.coerce.number().int().min(1).max(50).optional().openapi({ description: 'how many top runs (default 10)' }),
    }),
  },
  responses: {
    200: jsonResponse(
      z
        .object({
          tenant: z.string(),
          keyName: z.string(),
          budgets: z.array(budgetSchema),
          totalUsd: z.number(),
          completedRuns: z.number(),
          costPerCompletedRunUsd: z
            .number()
            .nullable()
            .openapi({ description: 'all spend divided by the runs that completed; null without one' }),
          topRuns: z.array(
            z.object({
              runId: z.string(),
              agent: z.string().nullable(),
              status: z.string().nullable(),
              input: z.string().nullable(),
              costUsd: z.number(),
            }),
          ),
        })
        .openapi('CostSummary'),
      'Cost summary',
    ),
    ...errors,
  },
});
