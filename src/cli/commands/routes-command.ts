/**
 * `hataraku routes train --from <eval>` fits a learned router from the user's own outcomes (an
 * eval that ran a cheap and a strong model on the same tasks, a JSONL of outcomes, or `ledger`:
 * the production runs of a cascade route that someone labelled with `hataraku runs feedback`)
 * and adds it to the config as a cascade route; `hataraku routes eval` replays a router on outcomes and says
 * what quality it reaches and what it saves.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { outputText } from '../../evals/checks/check-result.js';
import type { EvalReport } from '../../evals/eval-report.js';
import type { Hataraku } from '../../hataraku.js';
import { type AnswerFormat, parseAnswerFormat } from '../../routing/learned/answer-format.js';
import {
  type LearnedRouter,
  minimumTrainingExamples,
  type RoutingExample,
  replayRouter,
  trainRouter,
} from '../../routing/learned/learned-router.js';
import { loadLearnedRouter, saveLearnedRouter } from '../../routing/learned/learned-router-file.js';
import { defaultLedgerLimit, type LedgerOutcomes, outcomesFromLedger } from '../../routing/learned/ledger-outcomes.js';
import { type CliIo, openHataraku } from '../cli-context.js';

interface SourceFlags {
  from: string;
  weak?: string;
  strong?: string;
  /** With `--from ledger`: the cascade route, a date, and whether to assume the strong model right. */
  route?: string;
  since?: string;
  assumeStrongRight?: boolean;
  /** With `--from ledger`: whose runs and whose labels to learn from, and how many runs at most. */
  tenant?: string;
  allTenants?: boolean;
  labelledBy?: string[];
  limit?: string;
  config?: string;
  json?: boolean;
}

export interface RoutesTrainFlags extends SourceFlags {
  name?: string;
  kind?: string;
  answer?: string;
  target?: string;
  margin?: string;
  confidence?: string;
  objective?: string;
}

export interface RoutesEvalFlags extends SourceFlags {
  name?: string;
  router?: string;
}

export async function routesTrainCommand(flags: RoutesTrainFlags, io: CliIo): Promise<number> {
  const name = flags.name ?? 'learned';
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new UserError('usage', '--name may hold letters, digits, _ and - only.');
  const kind = flags.kind ?? 'cascade';
  if (kind !== 'cascade' && kind !== 'route')
    throw new UserError('usage', `--kind must be cascade or route (got ${JSON.stringify(kind)}).`);
  const objective = flags.objective ?? 'gain-per-dollar';
  if (objective !== 'gain-per-dollar' && objective !== 'gain') {
    throw new UserError('usage', `--objective must be gain-per-dollar or gain (got ${JSON.stringify(objective)}).`);
  }
  const targetQuality = shareFlag('--target', flags.target) ?? 0.95;
  const margin = flags.margin === undefined || flags.margin === 'auto' ? 'auto' : shareFlag('--margin', flags.margin);
  const confidence = shareFlag('--confidence', flags.confidence);
  if (confidence !== undefined && (confidence <= 0 || confidence >= 1)) {
    throw new UserError('usage', `--confidence must be between 0 and 1, e.g. 0.9 (got ${flags.confidence}).`);
  }
  const answerFormat = parseAnswerFlag(flags.answer ?? 'number');
  const hataraku = openHataraku(io, flags.config);
  try {
    const source = await readOutcomes(flags, io.cwd, hataraku, answerFormat);
    let router: LearnedRouter;
    try {
      router = trainRouter(source.examples, {
        kind,
        answerFormat,
        targetQuality,
        margin: margin ?? 'auto',
        objective,
        ...(confidence === undefined ? {} : { confidence }),
      });
    } catch (error) {
      throw new UserError('usage', `cannot train from ${flags.from}: ${(error as Error).message}`);
    }
    const routerPath = join(dirname(hataraku.config.journal.path), 'routers', `${name}.json`);
    saveLearnedRouter(router, routerPath);
    const written = [relative(io.cwd, routerPath)];
    const configFile = resolve(io.cwd, flags.config ?? 'hataraku.config.json');
    if (kind === 'cascade' && source.weak !== undefined && source.strong !== undefined) {
      addRouteToConfig(configFile, name, {
        type: 'cascade',
        models: [source.weak, source.strong],
        verify: ['non-empty', { learned: relative(io.cwd, routerPath) }],
      });
      written.push(`${relative(io.cwd, configFile)} (routes.${name})`);
    }
    const point = router.operatingPoint;
    if (flags.json) {
      io.stdout.write(
        `${JSON.stringify({ router: routerPath, operatingPoint: point, trainedOn: router.trainedOn })}\n`,
      );
    } else {
      io.stdout.write(
        [
          ...(source.summary === undefined ? [] : [source.summary]),
          `Trained a ${kind} router on ${router.trainedOn.examples} outcomes (cheap ${percent(router.trainedOn.weakAccuracy)} right, strong ${percent(router.trainedOn.strongAccuracy)}).`,
          `Operating point: target ${percent(point.targetQuality)} of the strong model's quality, ${point.method === 'bootstrap' ? `placed by bootstrap at ${percent(point.confidence ?? 0.9)} confidence` : 'fixed margin'} (+${percent(point.margin)} on the training data); on the training data (out of fold) it reaches ${percent(point.trainQuality)}, escalates ${percent(point.trainEscalatedShare)}, saves ${percent(point.trainSaving)}.`,
          `Written: ${written.join(', ')}`,
          kind === 'cascade' && source.weak !== undefined
            ? `Use it: --model route:${name}`
            : 'A prompt-only router is not a config route yet; replay it with `hataraku routes eval --router`.',
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await hataraku.close();
  }
}

export async function routesEvalCommand(flags: RoutesEvalFlags, io: CliIo): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  try {
    const routerPath =
      flags.router ??
      relative(io.cwd, join(dirname(hataraku.config.journal.path), 'routers', `${flags.name ?? 'learned'}.json`));
    const router = loadLearnedRouter(routerPath, io.cwd);
    const source = await readOutcomes(flags, io.cwd, hataraku, router.answerFormat);
    const outcome = replayRouter(router, source.examples);
    if (flags.json) {
      io.stdout.write(
        `${JSON.stringify({ router: routerPath, examples: source.examples.length, ...outcome, operatingPoint: router.operatingPoint })}\n`,
      );
    } else {
      const point = router.operatingPoint;
      io.stdout.write(
        [
          `Replayed ${routerPath} on ${source.examples.length} outcomes from ${flags.from}:`,
          `  quality reached: ${percent(outcome.quality)} of the strong model's (target ${percent(point.targetQuality)}${outcome.quality >= point.targetQuality ? ', reached' : ', NOT reached'})`,
          `  escalated: ${percent(outcome.escalatedShare)}; accuracy ${percent(outcome.accuracy)}; cost per prompt $${outcome.costPerPrompt.toFixed(6)}; saving against always-strong ${percent(outcome.saving)}`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    await hataraku.close();
  }
}

interface Outcomes {
  examples: RoutingExample[];
  weak?: string;
  strong?: string;
  /** Where the outcomes came from and what was left out, for the ledger. */
  summary?: string;
}

/** Outcomes of a cheap and a strong model on the same prompts, from an eval, a JSONL file or the ledger. */
async function readOutcomes(
  flags: SourceFlags,
  cwd: string,
  hataraku: Hataraku,
  answerFormat: AnswerFormat,
): Promise<Outcomes> {
  if (flags.from === 'ledger') return readLedgerOutcomes(flags, hataraku, answerFormat);
  for (const [flag, given] of [
    ['--route', flags.route],
    ['--since', flags.since],
    ['--assume-strong-right', flags.assumeStrongRight],
    ['--tenant', flags.tenant],
    ['--all-tenants', flags.allTenants],
    ['--labelled-by', flags.labelledBy],
    ['--limit', flags.limit],
  ] as const) {
    if (given !== undefined) throw new UserError('usage', `${flag} applies to --from ledger only.`);
  }
  const journalDirectory = dirname(hataraku.config.journal.path);
  const path = resolve(cwd, flags.from);
  if (flags.from.endsWith('.jsonl')) {
    if (!existsSync(path)) throw new UserError('usage', `${flags.from} not found.`);
    const examples = readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, index) => parseExample(line, `${flags.from}:${index + 1}`));
    return { examples, ...(flags.weak ? { weak: flags.weak } : {}), ...(flags.strong ? { strong: flags.strong } : {}) };
  }
  const reportPath = flags.from.endsWith('.json') ? path : join(journalDirectory, 'evals', flags.from, 'report.json');
  if (!existsSync(reportPath)) {
    throw new UserError(
      'usage',
      `no eval report at ${relative(cwd, reportPath)}; give an eval id, its report.json, a .jsonl of outcomes, or ledger (the runs labelled with \`hataraku runs feedback\`).`,
    );
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as EvalReport;
  const [weak, strong] = pickModels(report, flags);
  const byKey = (model: string) =>
    new Map(
      report.attempts
        .filter((attempt) => attempt.model === model)
        .map((attempt) => [`${attempt.taskId}#${attempt.repeat}`, attempt]),
    );
  const weakAttempts = byKey(weak);
  const strongAttempts = byKey(strong);
  const examples: RoutingExample[] = [];
  for (const [key, cheap] of weakAttempts) {
    const dear = strongAttempts.get(key);
    if (dear === undefined) continue;
    examples.push({
      prompt: cheap.input,
      weakResponse: outputText(cheap.output),
      weakCorrect: cheap.passed,
      strongCorrect: dear.passed,
      weakCostUsd: cheap.costUsd,
      strongCostUsd: dear.costUsd,
    });
  }
  return { examples, weak, strong };
}

/**
 * The labelled runs of a cascade route, from the journal (see `ledger-outcomes.ts` for how the
 * labels map). Too few for the trainer is one line saying how many there are and what was left out.
 */
async function readLedgerOutcomes(
  flags: SourceFlags,
  hataraku: Hataraku,
  answerFormat: AnswerFormat,
): Promise<Outcomes> {
  if (flags.weak !== undefined || flags.strong !== undefined) {
    throw new UserError(
      'usage',
      "--weak and --strong do not apply to --from ledger: the route's runs name the models.",
    );
  }
  if (flags.route !== undefined && !/^[A-Za-z0-9_-]+$/.test(flags.route)) {
    throw new UserError(
      'usage',
      `--route takes a route name as in the config, e.g. --route cheap-first (got ${JSON.stringify(flags.route)}).`,
    );
  }
  let since: number | undefined;
  if (flags.since !== undefined) {
    since = Date.parse(flags.since);
    if (!Number.isFinite(since)) {
      throw new UserError(
        'usage',
        `--since must be a date, e.g. --since 2026-11-01 (got ${JSON.stringify(flags.since)}).`,
      );
    }
  }
  if (flags.tenant !== undefined && flags.allTenants === true) {
    throw new UserError('usage', '--tenant and --all-tenants exclude each other; give one of them.');
  }
  if (flags.tenant !== undefined && flags.tenant.trim() === '') {
    throw new UserError('usage', '--tenant takes a tenant name, e.g. --tenant acme (got an empty one).');
  }
  if (flags.labelledBy?.some((actor) => actor.trim() === '')) {
    throw new UserError('usage', '--labelled-by takes an actor, e.g. --labelled-by key:ops (got an empty one).');
  }
  let limit = defaultLedgerLimit;
  if (flags.limit !== undefined) {
    limit = Number(flags.limit);
    if (!/^\d+$/.test(flags.limit.trim()) || !Number.isSafeInteger(limit) || limit < 1) {
      throw new UserError(
        'usage',
        `--limit takes a whole number of runs ≥ 1, e.g. --limit 5000 (got ${JSON.stringify(flags.limit)}).`,
      );
    }
  }
  let outcomes: Awaited<ReturnType<typeof outcomesFromLedger>>;
  try {
    outcomes = await outcomesFromLedger(hataraku.engine, {
      route: flags.route,
      answerFormat,
      since,
      assumeStrongRight: flags.assumeStrongRight === true,
      tenant: flags.tenant,
      allTenants: flags.allTenants === true,
      labelledBy: flags.labelledBy,
      limit,
    });
  } catch (error) {
    if (error instanceof RangeError)
      throw new UserError('usage', `cannot read outcomes from the ledger: ${error.message}`);
    throw error;
  }
  const through = outcomes.route === undefined ? 'a cascade route' : `route:${outcomes.route}`;
  if (outcomes.examples.length < minimumTrainingExamples) {
    throw new UserError(
      'usage',
      `the ledger has ${outcomes.examples.length} labelled runs through ${through}${whose(flags)} to learn from; ${minimumTrainingExamples} are needed (${describeLeftOut(outcomes)}). Label runs with \`hataraku runs feedback <run-id> --solved|--failed\`.`,
    );
  }
  const summary = `From the ledger: ${outcomes.examples.length} outcomes through ${through}${whose(flags)}; ${describeLeftOut(outcomes)}.`;
  const configured = outcomes.route === undefined ? undefined : hataraku.config.routes?.[outcomes.route];
  if (configured?.type === 'cascade') {
    const weak = configured.models[0];
    const strong = configured.models[configured.models.length - 1];
    if (weak !== undefined && strong !== undefined) return { examples: outcomes.examples, weak, strong, summary };
  }
  return { examples: outcomes.examples, summary };
}

/** Whose runs and labels were read, as said in the output. */
function whose(flags: SourceFlags): string {
  const parts = [
    flags.tenant === undefined ? '' : ` of tenant ${flags.tenant}`,
    flags.labelledBy === undefined ? '' : ` labelled by ${flags.labelledBy.join(' or ')}`,
  ];
  return parts.join('');
}

function describeLeftOut(outcomes: LedgerOutcomes): string {
  const { labelledRuns: labelled, leftOut } = outcomes;
  const reasons = [
    leftOut.strongUnknown > 0
      ? `${leftOut.strongUnknown} answered by the cheap model alone, whose strong label is unknown (--assume-strong-right counts them)`
      : '',
    leftOut.weakUnknown > 0
      ? `${leftOut.weakUnknown} escalated with a wrong strong answer and a different cheap one`
      : '',
    leftOut.noCheapAnswer > 0 ? `${leftOut.noCheapAnswer} without a cheap answer` : '',
    leftOut.noStrongCost > 0 ? `${leftOut.noStrongCost} with no strong cost to estimate from` : '',
  ].filter((reason) => reason !== '');
  const read =
    outcomes.notRead > 0
      ? ` (the newest ${outcomes.limit}; ${outcomes.notRead} older labels not read, raise --limit to read them)`
      : '';
  return `${labelled} labelled runs went through it${read}${reasons.length > 0 ? `; left out: ${reasons.join(', ')}` : ''}`;
}

function pickModels(report: EvalReport, flags: SourceFlags): [string, string] {
  if (flags.weak !== undefined && flags.strong !== undefined) {
    for (const model of [flags.weak, flags.strong]) {
      if (!report.models.includes(model))
        throw new UserError('usage', `the eval did not run ${model}; it ran: ${report.models.join(', ')}.`);
    }
    return [flags.weak, flags.strong];
  }
  if (report.models.length !== 2) {
    throw new UserError(
      'usage',
      `the eval ran ${report.models.length} models (${report.models.join(', ')}); name the pair with --weak and --strong.`,
    );
  }
  const [first, second] = report.overall;
  if (first === undefined || second === undefined) throw new UserError('usage', 'the eval report has no results.');
  return first.meanCostUsd <= second.meanCostUsd ? [first.model, second.model] : [second.model, first.model];
}

function parseExample(line: string, where: string): RoutingExample {
  let value: Partial<RoutingExample>;
  try {
    value = JSON.parse(line) as Partial<RoutingExample>;
  } catch {
    throw new UserError('usage', `${where}: not JSON.`);
  }
  if (
    typeof value.prompt !== 'string' ||
    typeof value.weakCorrect !== 'boolean' ||
    typeof value.strongCorrect !== 'boolean' ||
    typeof value.weakCostUsd !== 'number' ||
    typeof value.strongCostUsd !== 'number'
  ) {
    throw new UserError(
      'usage',
      `${where}: an outcome needs prompt, weakCorrect, strongCorrect, weakCostUsd, strongCostUsd (and weakResponse for a cascade).`,
    );
  }
  return value as RoutingExample;
}

function parseAnswerFlag(text: string): AnswerFormat {
  try {
    return parseAnswerFormat(text);
  } catch (error) {
    throw new UserError('usage', `--answer: ${(error as Error).message}`);
  }
}

function shareFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new UserError(
      'usage',
      `${flag} must be a share between 0 and 1, e.g. ${flag} 0.95 (got ${JSON.stringify(value)}).`,
    );
  }
  return parsed;
}

/** Add or replace `routes[name]` in the config file, keeping everything else as it was. */
function addRouteToConfig(path: string, name: string, route: Record<string, unknown>): void {
  let config: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      throw new UserError('config_invalid', `${path} is not JSON; fix it before adding a route.`);
    }
  }
  const routes = (config.routes ?? {}) as Record<string, unknown>;
  config.routes = { ...routes, [name]: route };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}
