/**
 * The bounded child process: it gets its data and answers, sees none of the host's environment,
 * and is killed past its resident-memory cap (typed arrays, which a heap cap does not count) or
 * its heap cap.
 */
import { describe, expect, it } from 'vitest';
import { BoundedProcess, type BoundedProcessLimits } from './bounded-process.js';

/** Run `source` with `data` until it posts a message or ends; what happened, in order. */
function run(
  source: string,
  data: Record<string, unknown>,
  limits: BoundedProcessLimits = { heapMb: 64, residentMb: 256 },
): Promise<string[]> {
  return new Promise((resolve) => {
    const events: string[] = [];
    const child = new BoundedProcess(source, data, limits);
    child.on('message', (message: unknown) => {
      events.push(`message ${JSON.stringify(message)}`);
      child.terminate();
    });
    child.on('out-of-memory', () => events.push('out-of-memory'));
    child.on('exit', () => resolve(events));
  });
}

describe('BoundedProcess', () => {
  it('gets its data, answers, and sees none of the host environment', async () => {
    process.env.HATARAKU_TEST_SECRET = 'sk-bounded-secret';
    try {
      const events = await run(
        'parentPort.postMessage({ doubled: workerData.value * 2, environment: Object.keys(process.env) });',
        { value: 21 },
      );
      expect(events).toEqual(['message {"doubled":42,"environment":[]}']);
    } finally {
      delete process.env.HATARAKU_TEST_SECRET;
    }
  });

  it('turns no text into code unless allowed', async () => {
    const source = `
      const outcome = (make) => { try { return String(make()); } catch (error) { return error.constructor.name; } };
      parentPort.postMessage({ eval: outcome(() => eval('1 + 1')), function: outcome(() => new Function('return 2')()) });
    `;
    expect(await run(source, {})).toEqual(['message {"eval":"EvalError","function":"EvalError"}']);
    expect(await run(source, {}, { heapMb: 64, residentMb: 256, codeFromStrings: true })).toEqual([
      'message {"eval":"2","function":"2"}',
    ]);
  });

  it('kills a process whose typed arrays pass the resident cap, though its heap is small', async () => {
    // 1 GB of touched Float64Arrays under a 64 MB heap cap: a worker thread would have held it all.
    const source = `
      const held = [];
      for (let index = 0; index < 64; index++) held.push(new Float64Array(2 * 1024 * 1024).fill(index + 1));
      parentPort.postMessage({ held: held.length });
    `;
    expect(await run(source, {})).toEqual(['out-of-memory']);
  });

  it('reports a full heap as out of memory', async () => {
    const source = 'const held = []; for (;;) held.push({ index: held.length, text: "x".repeat(64) + held.length });';
    expect(await run(source, {}, { heapMb: 32, residentMb: 4096 })).toEqual(['out-of-memory']);
  });
});
