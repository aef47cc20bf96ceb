/**
 * Training outcomes from production traffic: the runs whose answering model call went through a
 * cascade route and that someone labelled afterwards (`hataraku runs feedback`, `POST
 * /runs/:id/feedback`). Each becomes a `RoutingExample` for `trainRouter`, with only the labels
 * the journal can vouch for:
 *
 * - a run the cheap model answered alone: the feedback is the cheap answer's label. The strong
 *   model never saw the prompt, so its label is unknown, and the run is left out unless
 *   `assumeStrongRight` counts it as solved by the strong model (which errs on the safe side for
 *   the quality target: it makes always-strong look at least as good as it is, so the router
 *   escalates more, never less). Its strong cost is then estimated from the escalated runs.
 * - an escalated run: the feedback is the strong answer's label. The cheap answer (kept in the
 *   journal with the escalation) gets a label only when it can be known: the same extracted
 *   answer as the strong one shares its label; a different answer from a strong answer judged
 *   right is wrong (a task has one right answer). A different answer from a wrong strong one is
 *   unknown, and the run is left out.
 *
 * Costs are the run's spend on each model, from the cost ledger.
 */
import type { Engine } from '../../engine/engine.js';
import { type AnswerFormat, extractAnswer } from './answer-format.js';
import type { RoutingExample } from './learned-router.js';

/** Options of `outcomesFromLedger`. */
export interface LedgerOutcomeOptions {
  /** Only runs whose answer came through `route:<route>`; undefined: any cascade route, if only one was used. */
  route?: string | undefined;
  answerFormat: AnswerFormat;
  /** Only feedback recorded at or after this time (ms since epoch). */
  since?: number | undefined;
  /** Count a run the cheap model answered alone as one the strong model would have solved too. */
  assumeStrongRight?: boolean | undefined;
}

/** Why a labelled run gave no training example. */
export interface LeftOut {
  /** Answered by the cheap model alone: the strong model's label is unknown. */
  strongUnknown: number;
  /** Escalated, the strong answer judged wrong and the cheap one different: the cheap label is unknown. */
  weakUnknown: number;
  /** Escalated after the cheap model failed with an error, or through more than two models. */
  noCheapAnswer: number;
  /** No strong cost to estimate from (no escalated run with a priced strong call). */
  noStrongCost: number;
}

export interface LedgerOutcomes {
  examples: RoutingExample[];
  /** The route the runs went through. */
  route: string | undefined;
  /** Runs with feedback whose answer came through the route. */
  labelledRuns: number;
  leftOut: LeftOut;
}

/** The parts of the journal this reads. */
export type LedgerReader = Pick<Engine, 'listFeedback' | 'getRun' | 'listSteps' | 'costReport'>;

interface RoutingEntry {
  model: string;
  reason: string;
  rejectedAnswer?: string | undefined;
}

interface CascadeCall {
  route: string;
  prompt: string;
  solved: boolean;
  weakModel: string;
  answeredBy: string;
  escalations: number;
  weakResponse: string | undefined;
  answer: string;
  costs: Map<string, number>;
}

/** Read the labelled cascade runs of the journal and turn them into training outcomes. */
export async function outcomesFromLedger(
  journal: LedgerReader,
  options: LedgerOutcomeOptions,
): Promise<LedgerOutcomes> {
  const calls: CascadeCall[] = [];
  for (const feedback of await journal.listFeedback(options.since === undefined ? {} : { since: options.since })) {
    const call = await cascadeCallOf(journal, feedback.runId, feedback.solved);
    if (call !== undefined) calls.push(call);
  }
  const routes = [...new Set(calls.map((call) => call.route))];
  if (options.route === undefined && routes.length > 1) {
    throw new RangeError(
      `labelled runs went through several cascade routes (${routes.join(', ')}); name one with --route.`,
    );
  }
  const route = options.route ?? routes[0];
  const chosen = calls.filter((call) => call.route === route);
  const leftOut: LeftOut = { strongUnknown: 0, weakUnknown: 0, noCheapAnswer: 0, noStrongCost: 0 };
  const examples: RoutingExample[] = [];
  const alone: CascadeCall[] = [];
  const costRatios: number[] = [];
  for (const call of chosen) {
    if (call.escalations === 0) {
      if (options.assumeStrongRight) alone.push(call);
      else leftOut.strongUnknown += 1;
      continue;
    }
    if (call.escalations > 1 || call.weakResponse === undefined) {
      leftOut.noCheapAnswer += 1;
      continue;
    }
    const weakCorrect = cheapLabel(call.weakResponse, call.answer, call.solved, options.answerFormat);
    if (weakCorrect === undefined) {
      leftOut.weakUnknown += 1;
      continue;
    }
    const weakCostUsd = call.costs.get(call.weakModel) ?? 0;
    const strongCostUsd = call.costs.get(call.answeredBy) ?? 0;
    if (weakCostUsd > 0 && strongCostUsd > 0) costRatios.push(strongCostUsd / weakCostUsd);
    examples.push({
      prompt: call.prompt,
      weakResponse: call.weakResponse,
      weakCorrect,
      strongCorrect: call.solved,
      weakCostUsd,
      strongCostUsd,
    });
  }
  const ratio = median(costRatios);
  for (const call of alone) {
    const weakCostUsd = call.costs.get(call.weakModel) ?? 0;
    if (ratio === undefined) {
      leftOut.noStrongCost += 1;
      continue;
    }
    examples.push({
      prompt: call.prompt,
      weakResponse: call.answer,
      weakCorrect: call.solved,
      strongCorrect: true,
      weakCostUsd,
      strongCostUsd: weakCostUsd * ratio,
    });
  }
  return { examples, route, labelledRuns: chosen.length, leftOut };
}

/**
 * The cheap answer's label, when it can be known from the strong answer's: the same answer
 * shares its label; a different one is wrong when the strong one is right; otherwise unknown.
 */
export function cheapLabel(
  cheapResponse: string,
  strongResponse: string,
  strongSolved: boolean,
  answerFormat: AnswerFormat,
): boolean | undefined {
  const cheap = extractAnswer(cheapResponse, answerFormat).value;
  const strong = extractAnswer(strongResponse, answerFormat).value;
  if (strong === undefined) return undefined;
  if (cheap === strong) return strongSolved;
  return strongSolved ? false : undefined;
}

/** The run's answering model call, when it went through a cascade route. */
async function cascadeCallOf(journal: LedgerReader, runId: string, solved: boolean): Promise<CascadeCall | undefined> {
  const run = await journal.getRun(runId);
  if (run === undefined) return undefined;
  const modelSteps = (await journal.listSteps(runId)).filter((step) => step.kind === 'model');
  const last = modelSteps[modelSteps.length - 1];
  if (last?.model === undefined || !last.model.startsWith('route:')) return undefined;
  const output = last.output as { text?: unknown; routing?: unknown } | null;
  const routing = Array.isArray(output?.routing) ? (output.routing as RoutingEntry[]) : [];
  const first = routing[0];
  const answered = routing[routing.length - 1];
  if (first === undefined || answered === undefined || !first.reason.startsWith('cascade: trying')) return undefined;
  const escalationEntries = routing.filter((entry) => entry.reason.startsWith('cascade: escalating'));
  const costs = new Map(
    (await journal.costReport({ by: 'model', runId })).map((row) => [row.key, row.costUsd] as const),
  );
  return {
    route: last.model.slice('route:'.length),
    prompt: run.input,
    solved,
    weakModel: first.model,
    answeredBy: answered.model,
    escalations: escalationEntries.length,
    weakResponse: escalationEntries[0]?.rejectedAnswer,
    answer: typeof output?.text === 'string' ? output.text : '',
    costs,
  };
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
