/**
 * `hataraku routes train` from the user's outcomes writes a router and a cascade route to the
 * config; the route then works as a model (`route:<name>`) whose learned verifier keeps a clear
 * cheap answer and escalates a wavering one; `hataraku routes eval` replays the router.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../evals/eval-report.js';
import type { EvalAttempt } from '../../evals/eval-runner.js';
import { createHataraku } from '../../hataraku.js';
import { collectResponse } from '../../models/collect-response.js';
import type { RoutingExample } from '../../routing/learned/learned-router.js';
import { captureCliIo } from '../__fixtures__/captured-io.js';
import { main } from '../main.js';

/** Outcomes of a cheap and a strong model on letter-choice questions; wavering cheap answers are wrong. */
function outcomes(count: number): RoutingExample[] {
  return Array.from({ length: count }, (_, index) => {
    const wavering = index % 3 === 0;
    return {
      prompt: `Question ${index % 7 === 0 ? 'about a long contract clause and its exceptions' : 'about a date'}?\nA) one\nB) two\nC) three\nD) four`,
      weakResponse: wavering
        ? 'It might be A, or perhaps C; not sure.'
        : ['A', 'B', 'The answer is C.', 'D'][index % 4],
      weakCorrect: wavering ? index % 9 === 0 : true,
      strongCorrect: index % 13 !== 0,
      weakCostUsd: 0.0001,
      strongCostUsd: 0.002,
    };
  });
}

describe('hataraku routes', () => {
  it('trains a router from outcomes, adds it to the config as a cascade, and replays it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-routes-'));
    writeFileSync(
      join(cwd, 'outcomes.jsonl'),
      outcomes(120)
        .map((example) => JSON.stringify(example))
        .join('\n'),
    );
    writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify({ limits: { maxSteps: 5 } }));
    writeFileSync(
      join(cwd, 'weak.json'),
      JSON.stringify({ turns: [{ text: 'It might be A, or perhaps C; not sure.' }] }),
    );
    writeFileSync(join(cwd, 'weak-sure.json'), JSON.stringify({ turns: [{ text: 'B' }] }));
    writeFileSync(join(cwd, 'strong.json'), JSON.stringify({ turns: [{ text: 'C' }] }));

    const train = captureCliIo(cwd);
    const code = await main(
      [
        'routes',
        'train',
        '--from',
        'outcomes.jsonl',
        '--weak',
        'scripted:weak.json',
        '--strong',
        'scripted:strong.json',
        '--answer',
        'choice:ABCD',
      ],
      train.io,
    );
    expect(train.stderr()).toBe('');
    expect(code).toBe(0);
    expect(train.stdout()).toMatch(/Trained a cascade router on 120 outcomes/);
    expect(train.stdout()).toMatch(/placed by bootstrap at 90\.0 % confidence/);
    const config = JSON.parse(readFileSync(join(cwd, 'hataraku.config.json'), 'utf8'));
    expect(config.limits).toEqual({ maxSteps: 5 });
    expect(config.routes.learned).toEqual({
      type: 'cascade',
      models: ['scripted:weak.json', 'scripted:strong.json'],
      verify: ['non-empty', { learned: '.hataraku/routers/learned.json' }],
    });

    const replay = captureCliIo(cwd);
    expect(await main(['routes', 'eval', '--from', 'outcomes.jsonl', '--json'], replay.io)).toBe(0);
    const replayed = JSON.parse(replay.stdout());
    expect(replayed.examples).toBe(120);
    expect(replayed.quality).toBeGreaterThanOrEqual(0.95);
    expect(replayed.saving).toBeGreaterThan(0.3);

    // The configured route runs: a wavering cheap answer escalates to the strong model.
    const hataraku = createHataraku({ cwd, env: {} });
    try {
      const request = {
        messages: [{ role: 'user' as const, content: 'Question about a date?\nA) one\nB) two\nC) three\nD) four' }],
      };
      const escalated = await collectResponse(hataraku.model('route:learned'), request);
      expect(escalated.text).toBe('C');
      expect(escalated.routing.map((entry) => entry.reason).join(' | ')).toMatch(
        /escalating to scripted:strong\.json: .*learned: escalating/,
      );
    } finally {
      await hataraku.close();
    }
    config.routes.sure = { ...config.routes.learned, models: ['scripted:weak-sure.json', 'scripted:strong.json'] };
    writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify(config));
    const again = createHataraku({ cwd, env: {} });
    try {
      const kept = await collectResponse(again.model('route:sure'), {
        messages: [{ role: 'user', content: 'Question about a date?\nA) one\nB) two\nC) three\nD) four' }],
      });
      expect(kept.text).toBe('B');
    } finally {
      await again.close();
    }
  });

  it('explains what is missing in one line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-routes-'));
    writeFileSync(
      join(cwd, 'few.jsonl'),
      outcomes(4)
        .map((example) => JSON.stringify(example))
        .join('\n'),
    );
    const few = captureCliIo(cwd);
    expect(await main(['routes', 'train', '--from', 'few.jsonl'], few.io)).toBe(1);
    expect(few.stderr()).toMatch(/^hataraku: cannot train from few\.jsonl: trainRouter: need at least 10 examples/);
    const noEval = captureCliIo(cwd);
    expect(await main(['routes', 'train', '--from', 'eval_nothing'], noEval.io)).toBe(1);
    expect(noEval.stderr()).toMatch(
      /^hataraku: no eval report at .*or ledger \(the runs labelled with `hataraku runs feedback`\)/,
    );
    const badAnswer = captureCliIo(cwd);
    expect(await main(['routes', 'train', '--from', 'few.jsonl', '--answer', 'letters'], badAnswer.io)).toBe(1);
    expect(badAnswer.stderr()).toMatch(/^hataraku: --answer: an answer format must be number, integer, choice:ABCD/);
    const badConfidence = captureCliIo(cwd);
    expect(await main(['routes', 'train', '--from', 'few.jsonl', '--confidence', '1'], badConfidence.io)).toBe(1);
    expect(badConfidence.stderr()).toMatch(/^hataraku: --confidence must be between 0 and 1, e\.g\. 0\.9/);
    const noRouter = captureCliIo(cwd);
    expect(await main(['routes', 'eval', '--from', 'few.jsonl'], noRouter.io)).toBe(1);
    expect(noRouter.stderr()).toMatch(
      /^hataraku: learned router .*learned\.json cannot be read; create it with `hataraku routes train`/,
    );
  });

  it('trains from an eval report, pairing each task and repeat of the cheap and the strong model', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-routes-'));
    const attempts: EvalAttempt[] = outcomes(40).flatMap((example, index) =>
      (['mini', 'large'] as const).map((model) => ({
        taskId: `t${index}`,
        input: example.prompt,
        model,
        repeat: 0,
        runId: `e-t${index}-${model}`,
        status: 'completed' as const,
        stopReason: 'final-answer',
        passed: model === 'mini' ? example.weakCorrect : example.strongCorrect,
        checks: [],
        costUsd: model === 'mini' ? example.weakCostUsd : example.strongCostUsd,
        inputTokens: 10,
        outputTokens: 2,
        steps: 1,
        toolCalls: 0,
        latencyMs: 5,
        unpricedModelCalls: 0,
        output: model === 'mini' ? (example.weakResponse ?? '') : 'C',
      })),
    );
    const report = buildReport(
      'e',
      { suitePath: '/s.yaml', suiteName: 's', models: ['mini', 'large'], repeats: 1 },
      attempts,
      0,
    );
    writeFileSync(join(cwd, 'report.json'), JSON.stringify(report));
    const train = captureCliIo(cwd);
    expect(
      await main(['routes', 'train', '--from', 'report.json', '--answer', 'choice:ABCD', '--name', 'mine'], train.io),
    ).toBe(0);
    expect(train.stdout()).toMatch(/on 40 outcomes/);
    const config = JSON.parse(readFileSync(join(cwd, 'hataraku.config.json'), 'utf8'));
    // The cheaper model of the two is the one tried first.
    expect(config.routes.mine.models).toEqual(['mini', 'large']);
    const three = captureCliIo(cwd);
    writeFileSync(
      join(cwd, 'three.json'),
      JSON.stringify({
        ...report,
        models: ['mini', 'large', 'other'],
        overall: [...report.overall, { ...report.overall[0], model: 'other' }],
      }),
    );
    expect(await main(['routes', 'train', '--from', 'three.json'], three.io)).toBe(1);
    expect(three.stderr()).toMatch(
      /^hataraku: the eval ran 3 models \(mini, large, other\); name the pair with --weak and --strong\./,
    );
  });
});
