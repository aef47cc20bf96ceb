/**
 * Learning a router from production traffic: an agent answers through a cascade route into a
 * real SQLite journal, a person labels the runs with `hataraku runs feedback`, and `hataraku
 * routes train --from ledger` fits a router from those labels and the ledger's costs, writing it
 * to the config like the eval path does; `hataraku routes eval --from ledger` replays it.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agent } from '../../agent/agent.js';
import { run } from '../../agent/run.js';
import { createOverridePriceSource } from '../../cost/override-source.js';
import { createHataraku } from '../../hataraku.js';
import { createScriptedModel } from '../../models/scripted/scripted-model.js';
import { createCascadeModel } from '../../routing/cascade-model.js';
import { keptTextLength, outcomesFromLedger } from '../../routing/learned/ledger-outcomes.js';
import { countTokens } from '../../routing/learned/token-count.js';
import { matchesFormat } from '../../routing/verifiers.js';
import { captureCliIo } from '../__fixtures__/captured-io.js';
import { main } from '../main.js';

const prices = createOverridePriceSource({
  'scripted:cheap': { inputPerMillion: 100, outputPerMillion: 200 },
  'scripted:strong': { inputPerMillion: 2_500, outputPerMillion: 10_000 },
});

/**
 * One production task. Every third is hard: the cheap model hedges ("I think it is N"), the
 * verifier rejects it and the strong model answers; on half of those the hedge names the right
 * number. The others the cheap model answers in the expected form, wrong on every fifth.
 */
interface Task {
  prompt: string;
  right: number;
  cheapText: string;
  escalates: boolean;
  cheapRight: boolean;
}

function task(index: number): Task {
  const right = 10 + index;
  const hard = index % 3 === 0;
  const prompt = hard
    ? `A warehouse holds ${index} crates of ${right - index} boxes each, minus the damaged ones listed in the appendix; how many boxes are sound? Answer as #### N.`
    : `What is ${index} + 10? Answer as #### N.`;
  if (hard) {
    const hedgeRight = index % 2 === 0;
    return {
      prompt,
      right,
      cheapText: `I think it is ${hedgeRight ? right : right + 3}`,
      escalates: true,
      cheapRight: hedgeRight,
    };
  }
  const cheapRight = index % 5 !== 0;
  return { prompt, right, cheapText: `#### ${cheapRight ? right : right - 1}`, escalates: false, cheapRight };
}

/**
 * Run `count` tasks through the cascade `route:math` into the journal of the config in `cwd`,
 * for `tenant` if given; `context` puts that many characters of context before each prompt.
 */
async function runTraffic(
  cwd: string,
  count: number,
  options: { tenant?: string; context?: number } = {},
): Promise<Array<{ runId: string; task: Task }>> {
  const hataraku = createHataraku({ cwd, env: {} });
  try {
    const runs: Array<{ runId: string; task: Task }> = [];
    for (let index = 0; index < count; index += 1) {
      const plain = task(index);
      const current =
        options.context === undefined
          ? plain
          : { ...plain, prompt: `${'Context. '.repeat(Math.ceil(options.context / 9))}${plain.prompt}` };
      const tokens = Math.ceil(current.prompt.length / 4);
      const cheap = createScriptedModel({
        modelId: 'cheap',
        script: { turns: [{ text: current.cheapText, usage: { inputTokens: tokens, outputTokens: 6 } }] },
      });
      const strong = createScriptedModel({
        modelId: 'strong',
        script: { turns: [{ text: `#### ${current.right}`, usage: { inputTokens: tokens, outputTokens: 40 } }] },
      });
      const route = createCascadeModel({ name: 'math', models: [cheap, strong], verify: matchesFormat(/^#### \d+$/) });
      const result = await run(agent({ name: 'solver', instructions: 'Solve.', model: route }), current.prompt, {
        engine: hataraku.engine,
        prices,
        ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
      });
      expect(result.status).toBe('completed');
      runs.push({ runId: result.runId, task: current });
    }
    return runs;
  } finally {
    await hataraku.close();
  }
}

async function label(cwd: string, runId: string, solved: boolean): Promise<void> {
  const feedback = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
  const code = await main(['runs', 'feedback', runId, solved ? '--solved' : '--failed'], feedback.io);
  expect(feedback.stderr()).toBe('');
  expect(code).toBe(0);
  expect(feedback.stdout()).toMatch(new RegExp(`^Recorded: run ${runId} ${solved ? 'solved' : 'failed'} its task`));
}

/** A project whose config has the cascade route `math`. */
function mathProject(): string {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-ledger-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      routes: {
        math: { type: 'cascade', models: ['scripted:cheap.json', 'scripted:strong.json'], verify: ['non-empty'] },
      },
    }),
  );
  return cwd;
}

/** Label runs straight in the journal, as `actor`; `honest: false` inverts every label (a poisoner). */
async function labelAll(
  cwd: string,
  runs: ReadonlyArray<{ runId: string; task: Task }>,
  actor: string,
  honest = true,
): Promise<void> {
  const hataraku = createHataraku({ cwd, env: {} });
  try {
    for (const { runId, task: current } of runs) {
      const truth = current.escalates ? true : current.cheapRight;
      const recorded = await hataraku.engine.recordFeedback(runId, { solved: honest ? truth : !truth, actor });
      expect(recorded?.actor).toBe(actor);
    }
  } finally {
    await hataraku.close();
  }
}

/** `hataraku routes train --from ledger --route math --json` with more flags: exit code, stdout, stderr. */
async function trainFromLedger(
  cwd: string,
  flags: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
  const code = await main(['routes', 'train', '--from', 'ledger', '--route', 'math', ...flags], captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

describe('hataraku routes train --from ledger', () => {
  it('learns a cascade router from labelled production runs and writes it to the config', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-ledger-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        routes: {
          math: { type: 'cascade', models: ['scripted:cheap.json', 'scripted:strong.json'], verify: ['non-empty'] },
        },
      }),
    );
    const traffic = await runTraffic(cwd, 72);
    const escalated = traffic.filter(({ task: current }) => current.escalates);
    expect(escalated).toHaveLength(24);

    // The journal kept each escalated run's cheap answer and both models' costs.
    const hataraku = createHataraku({ cwd, env: {} });
    try {
      const first = escalated[0];
      if (first === undefined) throw new Error('no escalated run');
      const [step] = (await hataraku.engine.listSteps(first.runId)).filter((item) => item.kind === 'model');
      const routing = (step?.output as { routing: Array<{ rejectedAnswer?: string }> } | undefined)?.routing ?? [];
      expect(routing.map((entry) => entry.rejectedAnswer)).toEqual([undefined, first.task.cheapText, undefined]);
      const costs = await hataraku.engine.costReport({ by: 'model', runId: first.runId });
      expect(costs.map((row) => row.key).sort()).toEqual(['scripted:cheap', 'scripted:strong']);
    } finally {
      await hataraku.close();
    }

    // Too few labels: one line with how many there are and how many are needed.
    for (const { runId } of escalated.slice(0, 4)) await label(cwd, runId, true);
    await label(cwd, traffic[1]?.runId ?? '', true);
    const early = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(await main(['routes', 'train', '--from', 'ledger', '--route', 'math'], early.io)).toBe(1);
    expect(early.stderr()).toMatch(
      /^hataraku: the ledger has 4 labelled runs through route:math to learn from; 10 are needed \(5 labelled runs went through it; left out: 1 answered by the cheap model alone, whose strong label is unknown/,
    );
    expect(early.stderr().trim().split('\n')).toHaveLength(1);

    // Label everything: the strong model solved every escalated task; the cheap one, its share.
    // (The first escalated run is labelled again: the last word counts.)
    for (const { runId, task: current } of [...traffic.slice(2), ...traffic.slice(0, 1)]) {
      await label(cwd, runId, current.escalates ? true : current.cheapRight);
    }

    const train = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    const code = await main(
      [
        'routes',
        'train',
        '--from',
        'ledger',
        '--route',
        'math',
        '--answer',
        'number',
        '--name',
        'learned-math',
        '--json',
      ],
      train.io,
    );
    expect(train.stderr()).toBe('');
    expect(code).toBe(0);
    const trained = JSON.parse(train.stdout());
    // Only the escalated runs carry both labels: the strong answer judged, the cheap one compared with it.
    expect(trained.trainedOn).toEqual({ examples: 24, weakAccuracy: 0.5, strongAccuracy: 1 });
    const router = JSON.parse(readFileSync(join(cwd, '.hataraku', 'routers', 'learned-math.json'), 'utf8'));
    expect(router).toMatchObject({
      format: 'hataraku-learned-router',
      kind: 'cascade',
      answerFormat: { kind: 'number' },
    });
    expect(router.strongCost.fixedUsd + router.strongCost.perTokenUsd * 40).toBeGreaterThan(0);
    const config = JSON.parse(readFileSync(join(cwd, 'hataraku.config.json'), 'utf8'));
    expect(config.routes.math.models).toEqual(['scripted:cheap.json', 'scripted:strong.json']);
    expect(config.routes['learned-math']).toEqual({
      type: 'cascade',
      models: ['scripted:cheap.json', 'scripted:strong.json'],
      verify: ['non-empty', { learned: '.hataraku/routers/learned-math.json' }],
    });

    // Counting the runs the cheap model answered alone as solved by the strong model too.
    const assumed = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(
      await main(['routes', 'train', '--from', 'ledger', '--assume-strong-right', '--name', 'assumed'], assumed.io),
    ).toBe(0);
    expect(assumed.stdout()).toMatch(
      /^From the ledger: 72 outcomes through route:math; 72 labelled runs went through it\.\nTrained a cascade router on 72 outcomes/,
    );
    const cheapAlone = traffic.filter(({ task: current }) => !current.escalates);
    const cheapAloneRight = cheapAlone.filter(({ task: current }) => current.cheapRight).length;
    const assumedRouter = JSON.parse(readFileSync(join(cwd, '.hataraku', 'routers', 'assumed.json'), 'utf8'));
    expect(assumedRouter.trainedOn).toEqual({
      examples: 72,
      weakAccuracy: (12 + cheapAloneRight) / 72,
      strongAccuracy: 1,
    });

    const replay = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(
      await main(
        ['routes', 'eval', '--from', 'ledger', '--route', 'math', '--name', 'learned-math', '--json'],
        replay.io,
      ),
    ).toBe(0);
    const replayed = JSON.parse(replay.stdout());
    expect(replayed.examples).toBe(24);
    expect(replayed.quality).toBeGreaterThan(0);
  });

  it('says in one line what is wrong with a feedback or ledger request', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-ledger-'));
    writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify({}));
    const [only] = await runTraffic(cwd, 1);
    const neither = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(await main(['runs', 'feedback', only?.runId ?? ''], neither.io)).toBe(1);
    expect(neither.stderr()).toBe(
      'hataraku: say whether the run solved its task: --solved or --failed (one of them).\n',
    );
    const unknown = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(await main(['runs', 'feedback', 'run_nope', '--failed'], unknown.io)).toBe(1);
    expect(unknown.stderr()).toMatch(/^hataraku: no run with id run_nope; list runs with `hataraku runs list`\.\n$/);
    const badDate = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(await main(['routes', 'train', '--from', 'ledger', '--since', 'yesterday'], badDate.io)).toBe(1);
    expect(badDate.stderr()).toMatch(
      /^hataraku: --since must be a date, e\.g\. --since 2026-11-01 \(got "yesterday"\)\.\n$/,
    );
    const none = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(await main(['routes', 'train', '--from', 'ledger'], none.io)).toBe(1);
    expect(none.stderr()).toMatch(
      /^hataraku: the ledger has 0 labelled runs through a cascade route to learn from; 10 are needed/,
    );
    const misplaced = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(await main(['routes', 'train', '--from', 'x.jsonl', '--route', 'math'], misplaced.io)).toBe(1);
    expect(misplaced.stderr()).toBe('hataraku: --route applies to --from ledger only.\n');
    for (const flag of ['--tenant', '--labelled-by', '--limit']) {
      const elsewhere = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
      expect(await main(['routes', 'train', '--from', 'x.jsonl', flag, '5'], elsewhere.io)).toBe(1);
      expect(elsewhere.stderr()).toBe(`hataraku: ${flag} applies to --from ledger only.\n`);
    }
  });

  it("learns from one tenant at a time: another tenant's false labels cannot reach its router", async () => {
    const cwd = mathProject();
    const acme = await runTraffic(cwd, 36, { tenant: 'acme' });
    const mallory = await runTraffic(cwd, 36, { tenant: 'mallory' });
    await labelAll(cwd, acme, 'key:acme-ops');
    // Mallory labels every run of its own the wrong way round, to drag the shared router off.
    await labelAll(cwd, mallory, 'key:mallory', false);

    // Several tenants and none named: refused in one line that names them and the two ways on.
    const refused = await trainFromLedger(cwd, ['--name', 'refused']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "hataraku: cannot read outcomes from the ledger: the journal holds runs of 2 tenants (acme, mallory), and one tenant's labels would train every tenant's router; pass --tenant NAME to learn from one tenant's runs, or --all-tenants to learn from all of them.\n",
    );
    expect(existsSync(join(cwd, '.hataraku', 'routers', 'refused.json'))).toBe(false);

    // One tenant: only its 12 escalated runs, labelled honestly.
    const own = await trainFromLedger(cwd, ['--tenant', 'acme', '--name', 'acme']);
    expect(own.stderr).toBe('');
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(
      /^From the ledger: 12 outcomes through route:math of tenant acme; 36 labelled runs went through it;/,
    );
    const acmeRouter = JSON.parse(readFileSync(join(cwd, '.hataraku', 'routers', 'acme.json'), 'utf8'));
    expect(acmeRouter.trainedOn).toEqual({ examples: 12, weakAccuracy: 0.5, strongAccuracy: 1 });

    // All tenants, by explicit opt-in: the false labels come in (the strong model now "fails" 6 of 18).
    const all = await trainFromLedger(cwd, ['--all-tenants', '--name', 'all', '--json']);
    expect(all.stderr).toBe('');
    expect(JSON.parse(all.stdout).trainedOn).toEqual({ examples: 18, weakAccuracy: 6 / 18, strongAccuracy: 12 / 18 });

    // Or only the labels of trusted actors (repeatable).
    const trusted = await trainFromLedger(cwd, ['--all-tenants', '--labelled-by', 'key:acme-ops', '--json']);
    expect(trusted.stderr).toBe('');
    expect(JSON.parse(trusted.stdout).trainedOn).toEqual({ examples: 12, weakAccuracy: 0.5, strongAccuracy: 1 });
    const both = await trainFromLedger(cwd, [
      '--all-tenants',
      '--labelled-by',
      'key:acme-ops',
      '--labelled-by',
      'key:mallory',
      '--json',
    ]);
    expect(JSON.parse(both.stdout).trainedOn.examples).toBe(18);
    const nobody = await trainFromLedger(cwd, ['--tenant', 'acme', '--labelled-by', 'key:mallory']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(
      /^hataraku: the ledger has 0 labelled runs through route:math of tenant acme labelled by key:mallory to learn from; 10 are needed/,
    );

    const clash = await trainFromLedger(cwd, ['--tenant', 'acme', '--all-tenants']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toBe('hataraku: --tenant and --all-tenants exclude each other; give one of them.\n');
    const replay = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(
      await main(['routes', 'eval', '--from', 'ledger', '--route', 'math', '--name', 'acme', '--json'], replay.io),
    ).toBe(1);
    expect(replay.stderr()).toMatch(
      /^hataraku: cannot read outcomes from the ledger: the journal holds runs of 2 tenants/,
    );
    const replayOwn = captureCliIo(cwd, { HATARAKU_USER: 'reviewer' });
    expect(
      await main(
        ['routes', 'eval', '--from', 'ledger', '--route', 'math', '--tenant', 'acme', '--name', 'acme', '--json'],
        replayOwn.io,
      ),
    ).toBe(0);
    expect(JSON.parse(replayOwn.stdout()).examples).toBe(12);
  });

  it('reads only the newest labelled runs up to --limit, and says how many older ones it left', async () => {
    const cwd = mathProject();
    const traffic = await runTraffic(cwd, 240);
    await labelAll(cwd, traffic, 'reviewer');
    const limited = await trainFromLedger(cwd, ['--limit', '90', '--assume-strong-right']);
    expect(limited.stderr).toBe('');
    expect(limited.code).toBe(0);
    expect(limited.stdout).toMatch(
      /^From the ledger: 90 outcomes through route:math; 90 labelled runs went through it \(the newest 90; 150 older labels not read, raise --limit to read them\)\.\n/,
    );
    const everything = await trainFromLedger(cwd, ['--assume-strong-right', '--json']);
    expect(JSON.parse(everything.stdout).trainedOn.examples).toBe(240);
    for (const limit of ['0', '-3', '1.5', 'many']) {
      const bad = await trainFromLedger(cwd, ['--limit', limit]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe(
        `hataraku: --limit takes a whole number of runs ≥ 1, e.g. --limit 5000 (got ${JSON.stringify(limit)}).\n`,
      );
    }
  });

  it('keeps only the head and tail of a long prompt, and the newest runs first', async () => {
    const cwd = mathProject();
    const traffic = await runTraffic(cwd, 12, { context: 200_000 });
    // The escalated runs are labelled last, a few milliseconds later, so they are among the newest
    // five whatever order labels of the same millisecond take: the runs the cheap model answered
    // alone are priced from the escalated ones, and five examples need at least one of those.
    await labelAll(
      cwd,
      traffic.filter(({ task: current }) => !current.escalates),
      'reviewer',
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    await labelAll(
      cwd,
      traffic.filter(({ task: current }) => current.escalates),
      'reviewer',
    );
    const hataraku = createHataraku({ cwd, env: {} });
    try {
      const stored = await hataraku.engine.getRun(traffic[0]?.runId ?? '');
      expect(stored?.input.length).toBeGreaterThan(200_000);
      const outcomes = await outcomesFromLedger(hataraku.engine, {
        route: 'math',
        answerFormat: { kind: 'number' },
        assumeStrongRight: true,
        limit: 5,
      });
      expect(outcomes).toMatchObject({ labelledRuns: 5, notRead: 7, limit: 5 });
      const newest = (await hataraku.engine.listFeedback()).slice(-5).map((entry) => entry.runId);
      const prompts = traffic.filter(({ runId }) => newest.includes(runId)).map(({ task: current }) => current.prompt);
      expect(outcomes.examples).toHaveLength(5);
      for (const example of outcomes.examples) {
        expect(example.prompt).toHaveLength(keptTextLength);
        expect(example.prompt.startsWith('Context. Context.')).toBe(true);
        expect(example.prompt.endsWith('Answer as #### N.')).toBe(true);
        const whole = prompts.find((prompt) => prompt.endsWith(example.prompt.slice(-200)));
        if (whole === undefined) throw new Error('an example from a run not among the newest five');
        // The strong call's cost is fitted on the whole prompt's length, not the cut one's.
        expect(example.promptTokens).toBe(countTokens(whole));
        expect(example.promptTokens).toBeGreaterThan(countTokens(example.prompt) * 10);
      }
    } finally {
      await hataraku.close();
    }
  });
});
