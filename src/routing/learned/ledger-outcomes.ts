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
 *
 * Labels are a trust boundary: a journal serving several tenants is refused unless one tenant is
 * named (or all are, explicitly), and only chosen actors' feedback can be used. Runs are read one
 * at a time, newest first, up to a limit, and only a capped head and tail of each text is kept.
 */
import type { Engine, RunFeedback, RunRecord } from '../../engine/engine.js';
import { type AnswerFormat, extractAnswer } from './answer-format.js';
import type { RoutingExample } from './learned-router.js';
import { countTokens } from './token-count.js';

/** The most labelled runs read by default: the newest ones. */
export const defaultLedgerLimit = 20_000;

/**
 * The most characters kept of a prompt or a cheap answer: its first and last halves. The
 * features count over the text (tokens, numbers, sentences, hedging words) and read the stated
 * answer, which sits at the end of an answer and often at the end of a prompt, so a longer text
 * keeps its head and its tail; its features are then those of the cut text. The strong call's
 * cost is still fitted on the whole prompt's token count (`RoutingExample.promptTokens`).
 */
export const keptTextLength = 8_000;

/** Options of `outcomesFromLedger`. */
export interface LedgerOutcomeOptions {
  /** Only runs whose answer came through `route:<route>`; undefined: any cascade route, if only one was used. */
  route?: string | undefined;
  answerFormat: AnswerFormat;
  /** Only feedback recorded at or after this time (ms since epoch). */
  since?: number | undefined;
  /** Count a run the cheap model answered alone as one the strong model would have solved too. */
  assumeStrongRight?: boolean | undefined;
  /**
   * Only this tenant's runs. Without it, a journal holding runs of more than one tenant is
   * refused unless `allTenants` is set: one tenant's labels would train every tenant's router.
   */
  tenant?: string | undefined;
  /** Train on the labelled runs of every tenant together (an explicit opt-in). */
  allTenants?: boolean | undefined;
  /** Only feedback given by one of these actors (`key:ops`, a CLI user); undefined: anyone's. */
  labelledBy?: readonly string[] | undefined;
  /** The most labelled runs of the route read, newest first (default `defaultLedgerLimit`). */
  limit?: number | undefined;
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
  /** Runs with feedback whose answer came through the route (at most `limit`). */
  labelledRuns: number;
  /** Feedback older than the newest `limit` labelled runs of the route, not read (0 when all were read). */
  notRead: number;
  /** The most labelled runs read. */
  limit: number;
  leftOut: LeftOut;
}

/** The parts of the journal this reads. */
export type LedgerReader = Pick<Engine, 'listFeedback' | 'getRun' | 'listSteps' | 'costReport'>;

interface RoutingEntry {
  model: string;
  reason: string;
  rejectedAnswer?: string | undefined;
}

/** One labelled cascade call, as kept while reading: texts capped, the cheap label already worked out. */
interface CascadeCall {
  route: string;
  prompt: string;
  /** Tokens of the whole prompt, when `prompt` was cut. */
  promptTokens: number | undefined;
  solved: boolean;
  weakModel: string;
  answeredBy: string;
  escalations: number;
  /** The cheap answer: the rejected one of an escalated run, the answer of a run the cheap model answered alone. */
  weakResponse: string | undefined;
  /** For an escalated run: the cheap answer's label, when the strong answer's says something about it. */
  weakCorrect: boolean | undefined;
  costs: Map<string, number>;
}

/** Read the labelled cascade runs of the journal, newest first, and turn them into training outcomes. */
export async function outcomesFromLedger(
  journal: LedgerReader,
  options: LedgerOutcomeOptions,
): Promise<LedgerOutcomes> {
  const limit = options.limit ?? defaultLedgerLimit;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`the limit must be a whole number ≥ 1 (got ${limit}).`);
  if (options.tenant === undefined && options.allTenants !== true) {
    const tenants = await tenantsOf(journal);
    if (tenants.length > 1) throw severalTenants(tenants);
  }
  const actors = options.labelledBy === undefined ? undefined : new Set(options.labelledBy);
  const since = options.since ?? 0;
  const calls: CascadeCall[] = [];
  const seenTenants = new Set<string>();
  let notRead = 0;
  // Newest first, a page of feedback at a time and one run at a time: the newest labels are
  // kept, and only the capped texts of at most `limit` runs are held.
  for await (const entry of feedbackNewestFirst(journal, since)) {
    if (actors !== undefined && !actors.has(entry.actor)) continue;
    if (calls.length >= limit) {
      notRead += 1;
      continue;
    }
    const run = await journal.getRun(entry.runId);
    if (run === undefined) continue;
    if (options.tenant !== undefined && run.tenant !== options.tenant) continue;
    if (options.tenant === undefined && options.allTenants !== true) {
      seenTenants.add(run.tenant ?? noTenant);
      if (seenTenants.size > 1) throw severalTenants([...seenTenants].sort());
    }
    const call = await cascadeCallOf(journal, run, entry.solved, options.answerFormat);
    if (call === undefined) continue;
    if (options.route !== undefined && call.route !== options.route) continue;
    calls.push(call);
  }
  const routes = [...new Set(calls.map((call) => call.route))];
  if (options.route === undefined && routes.length > 1) {
    throw new RangeError(
      `labelled runs went through several cascade routes (${routes.join(', ')}); name one with --route.`,
    );
  }
  const route = options.route ?? routes[0];
  // Oldest first, as the trainer saw them before runs were read newest first.
  const chosen = calls.filter((call) => call.route === route).reverse();
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
    if (call.weakCorrect === undefined) {
      leftOut.weakUnknown += 1;
      continue;
    }
    const weakCostUsd = call.costs.get(call.weakModel) ?? 0;
    const strongCostUsd = call.costs.get(call.answeredBy) ?? 0;
    if (weakCostUsd > 0 && strongCostUsd > 0) costRatios.push(strongCostUsd / weakCostUsd);
    examples.push({
      prompt: call.prompt,
      ...(call.promptTokens === undefined ? {} : { promptTokens: call.promptTokens }),
      weakResponse: call.weakResponse,
      weakCorrect: call.weakCorrect,
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
      ...(call.promptTokens === undefined ? {} : { promptTokens: call.promptTokens }),
      weakResponse: call.weakResponse ?? '',
      weakCorrect: call.solved,
      strongCorrect: true,
      weakCostUsd,
      strongCostUsd: weakCostUsd * ratio,
    });
  }
  return { examples, route, labelledRuns: chosen.length, notRead, limit, leftOut };
}

/** Feedback entries read a page at a time. */
const feedbackPageSize = 500;

/** The journal's feedback since `since`, newest first, read a page at a time. */
async function* feedbackNewestFirst(journal: LedgerReader, since: number): AsyncGenerator<RunFeedback> {
  let before: Pick<RunFeedback, 'at' | 'runId'> | undefined;
  for (;;) {
    const page = await journal.listFeedback({ since, newest: { limit: feedbackPageSize, before } });
    yield* page;
    const last = page[page.length - 1];
    if (last === undefined || page.length < feedbackPageSize) return;
    before = { at: last.at, runId: last.runId };
  }
}

/** How the cost ledger names the runs recorded without a tenant. */
const noTenant = '(none)';

/** The tenants with runs in the journal (the cost ledger's roll-up by tenant), sorted. */
async function tenantsOf(journal: LedgerReader): Promise<string[]> {
  const rows = await journal.costReport({ by: 'tenant' });
  return [...new Set(rows.map((row) => row.key))].sort();
}

function severalTenants(tenants: readonly string[]): RangeError {
  const named = tenants.map((tenant) => (tenant === noTenant ? 'runs without a tenant' : tenant));
  return new RangeError(
    `the journal holds runs of ${tenants.length} tenants (${named.join(', ')}), and one tenant's labels would train every tenant's router; pass --tenant NAME to learn from one tenant's runs, or --all-tenants to learn from all of them.`,
  );
}

/**
 * A text cut to its first and last halves of `keptTextLength` characters (a line break between)
 * when longer. The pieces are copied: a slice of a string would keep the whole string alive.
 */
export function keptText(text: string): string {
  if (text.length <= keptTextLength) return text;
  const head = keptTextLength / 2;
  const tail = keptTextLength - head - 1;
  return Buffer.from(`${text.slice(0, head)}\n${text.slice(text.length - tail)}`, 'utf8').toString('utf8');
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

/** The run's answering model call, when it went through a cascade route; its texts capped. */
async function cascadeCallOf(
  journal: LedgerReader,
  run: RunRecord,
  solved: boolean,
  answerFormat: AnswerFormat,
): Promise<CascadeCall | undefined> {
  const modelSteps = (await journal.listSteps(run.id)).filter((step) => step.kind === 'model');
  const last = modelSteps[modelSteps.length - 1];
  if (last?.model === undefined || !last.model.startsWith('route:')) return undefined;
  const output = last.output as { text?: unknown; routing?: unknown } | null;
  const routing = Array.isArray(output?.routing) ? (output.routing as RoutingEntry[]) : [];
  const first = routing[0];
  const answered = routing[routing.length - 1];
  if (first === undefined || answered === undefined || !first.reason.startsWith('cascade: trying')) return undefined;
  const escalationEntries = routing.filter((entry) => entry.reason.startsWith('cascade: escalating'));
  const costs = new Map(
    (await journal.costReport({ by: 'model', runId: run.id })).map((row) => [row.key, row.costUsd] as const),
  );
  const answer = typeof output?.text === 'string' ? output.text : '';
  const rejected = escalationEntries[0]?.rejectedAnswer;
  // The label is worked out on the whole texts; only the capped ones are kept.
  const weakCorrect =
    escalationEntries.length === 1 && rejected !== undefined
      ? cheapLabel(rejected, answer, solved, answerFormat)
      : undefined;
  const weakResponse = escalationEntries.length === 0 ? answer : rejected;
  return {
    route: last.model.slice('route:'.length),
    prompt: keptText(run.input),
    promptTokens: run.input.length > keptTextLength ? countTokens(run.input) : undefined,
    solved,
    weakModel: first.model,
    answeredBy: answered.model,
    escalations: escalationEntries.length,
    weakResponse: weakResponse === undefined ? undefined : keptText(weakResponse),
    weakCorrect,
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
