/**
 * `hataraku eval <suite> --model A --model B --model route:R [--repeat N] [--concurrency C]`:
 * run a suite against models and routes as durable runs, check each outcome, and write the
 * report (Markdown, JSON) and the success-vs-cost-per-solved-task chart (SVG, PNG).
 * `--resume <id>` continues an interrupted eval; `--compare <before> <after>` compares two
 * reports.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { comparisonMarkdown } from '../../evals/compare-evals.js';
import { renderEvalChart } from '../../evals/eval-chart.js';
import { buildReport, type EvalReport, reportMarkdown } from '../../evals/eval-report.js';
import { type EvalManifest, loadEvalManifest, runEval } from '../../evals/eval-runner.js';
import { loadSuite } from '../../evals/load-suite.js';
import { type CliIo, openHataraku, positiveIntegerFlag, positiveNumberFlag } from '../cli-context.js';

export interface EvalFlags {
  model?: string[];
  repeat?: string;
  concurrency?: string;
  budget?: string;
  grader?: string;
  id?: string;
  resume?: string;
  out?: string;
  compare?: string[];
  chart?: boolean;
  json?: boolean;
  config?: string;
}

export async function evalCommand(suitePath: string | undefined, flags: EvalFlags, io: CliIo): Promise<number> {
  if (flags.compare !== undefined) return compareCommand(flags.compare, io);
  const hataraku = openHataraku(io, flags.config);
  try {
    let manifest: EvalManifest;
    let evalId: string;
    if (flags.resume !== undefined) {
      if (suitePath !== undefined || (flags.model ?? []).length > 0) {
        throw new UserError(
          'usage',
          '--resume continues a recorded eval with its own suite and models; give only --resume <id>.',
        );
      }
      evalId = flags.resume;
      manifest = await loadEvalManifest(hataraku, evalId);
    } else {
      if (suitePath === undefined) {
        throw new UserError(
          'usage',
          'give a suite file, e.g. `hataraku eval evals/toolchain/suite.yaml --model demo`, or --resume <id>.',
        );
      }
      const models = flags.model ?? [];
      if (models.length === 0) {
        throw new UserError(
          'usage',
          'give at least one --model (a model name, route:<name>, or demo for the scripted demo models).',
        );
      }
      if (new Set(models).size !== models.length)
        throw new UserError('usage', 'a --model is given twice; give each model once.');
      const loaded = loadSuite(suitePath, io.cwd);
      evalId = flags.id ?? `eval_${loaded.suite.name.replace(/[^a-z0-9-]/gi, '-')}_${randomBytes(4).toString('hex')}`;
      if (!/^[A-Za-z0-9_-]+$/.test(evalId))
        throw new UserError('usage', '--id may hold letters, digits, _ and - only.');
      if ((await hataraku.engine.getRun(evalId)) !== undefined) {
        throw new UserError(
          'usage',
          `eval ${evalId} exists already; continue it with \`hataraku eval --resume ${evalId}\` or choose another --id.`,
        );
      }
      const budgetUsd = positiveNumberFlag('--budget', flags.budget, '0.50');
      manifest = {
        suitePath: loaded.path,
        suiteName: loaded.suite.name,
        models,
        repeats: positiveIntegerFlag('--repeat', flags.repeat, '3') ?? 1,
        ...(flags.grader === undefined ? {} : { grader: flags.grader }),
        ...(budgetUsd === undefined ? {} : { budgetUsd }),
      };
    }
    const suite = loadSuite(manifest.suitePath);
    for (const model of manifest.models) if (model !== 'demo') hataraku.model(model);
    if (!flags.json) {
      io.stdout.write(
        `Eval ${evalId}: ${suite.suite.tasks.length} task(s) × ${manifest.models.length} model(s) × ${manifest.repeats} repeat(s).\nIf it is interrupted, continue it with: hataraku eval --resume ${evalId}\n\n`,
      );
    }
    const result = await runEval({
      hataraku,
      suite,
      manifest,
      evalId,
      concurrency: positiveIntegerFlag('--concurrency', flags.concurrency, '4') ?? 1,
      ...(io.signal ? { signal: io.signal } : {}),
      onAttempt: (attempt, done, total) => {
        if (flags.json) io.stdout.write(`${JSON.stringify({ type: 'attempt', ...attempt })}\n`);
        else
          io.stdout.write(
            `[${done}/${total}] ${attempt.taskId} × ${attempt.model} #${attempt.repeat + 1}: ${attempt.passed ? 'solved' : 'not solved'} ($${attempt.costUsd.toFixed(6)}, ${attempt.steps} steps)\n`,
          );
      },
    });
    const report = buildReport(evalId, manifest, result.attempts, result.unfinished);
    const outDirectory = resolve(io.cwd, flags.out ?? join(dirname(hataraku.config.journal.path), 'evals', evalId));
    mkdirSync(outDirectory, { recursive: true });
    writeFileSync(join(outDirectory, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const markdown = reportMarkdown(report);
    writeFileSync(join(outDirectory, 'report.md'), markdown);
    const written = [join(outDirectory, 'report.md'), join(outDirectory, 'report.json')];
    if (flags.chart !== false && report.overall.some((summary) => summary.costPerSolvedUsd !== null)) {
      const chart = await renderEvalChart(report, join(outDirectory, 'chart'));
      written.push(chart.svg, chart.png);
    }
    if (flags.json) {
      io.stdout.write(
        `${JSON.stringify({ type: 'report', files: written, overall: report.overall, unfinished: report.unfinished })}\n`,
      );
    } else {
      io.stdout.write(
        `\n${markdown.split('\n## Per task')[0]}\nWritten: ${written.map((path) => relative(io.cwd, path) || path).join(', ')}\n`,
      );
    }
    if (result.unfinished > 0) {
      io.stderr.write(
        `hataraku: eval ${evalId} interrupted with ${result.unfinished} attempt(s) left; continue it with \`hataraku eval --resume ${evalId}\`.\n`,
      );
      return 130;
    }
    return 0;
  } finally {
    await hataraku.close();
  }
}

function compareCommand(paths: string[], io: CliIo): number {
  if (paths.length !== 2)
    throw new UserError(
      'usage',
      '--compare takes two report.json files: --compare before/report.json after/report.json.',
    );
  const [before, after] = paths.map((path) => readReport(resolve(io.cwd, path), path)) as [EvalReport, EvalReport];
  io.stdout.write(comparisonMarkdown(before, after));
  return 0;
}

function readReport(path: string, given: string): EvalReport {
  if (!existsSync(path)) throw new UserError('usage', `${given} not found; give the report.json an eval wrote.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UserError('usage', `${given} is not JSON; give the report.json an eval wrote.`);
  }
  if ((parsed as { format?: unknown } | null)?.format !== 'hataraku-eval-report') {
    throw new UserError('usage', `${given} is not an eval report (no "format": "hataraku-eval-report").`);
  }
  return parsed as EvalReport;
}
