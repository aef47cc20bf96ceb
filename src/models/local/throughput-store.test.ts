import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createThroughputStore, throughputPath } from './throughput-store.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});
function store() {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-throughput-'));
  directories.push(directory);
  return { path: throughputPath(directory), store: createThroughputStore(throughputPath(directory)) };
}

describe('throughput store', () => {
  it('sums calls per model and reports tokens per second, surviving a new store on the same file', () => {
    const { path, store: first } = store();
    first.record('qwen', { device: 'cpu', inputTokens: 1000, inputSeconds: 2, outputTokens: 50, outputSeconds: 5 });
    first.record('qwen', { device: 'cpu', inputTokens: 200, inputSeconds: 0.4, outputTokens: 10, outputSeconds: 1 });
    const reread = createThroughputStore(path).lookup('qwen');
    expect(reread).toEqual({ device: 'cpu', inputTokensPerSecond: 500, outputTokensPerSecond: 10, calls: 2 });
    expect(first.lookup('other')).toBeUndefined();
  });

  it('starts again when the device changes, and leaves a rate undefined until measured', () => {
    const { store: throughput } = store();
    throughput.record('qwen', {
      device: 'cpu',
      inputTokens: 1000,
      inputSeconds: 2,
      outputTokens: 50,
      outputSeconds: 5,
    });
    throughput.record('qwen', { device: 'gpu', inputTokens: 0, inputSeconds: 0, outputTokens: 100, outputSeconds: 1 });
    expect(throughput.lookup('qwen')).toEqual({
      device: 'gpu',
      inputTokensPerSecond: undefined,
      outputTokensPerSecond: 100,
      calls: 1,
    });
  });

  it('treats a damaged file as no measurements', () => {
    const { path, store: throughput } = store();
    writeFileSync(path, '{not json');
    expect(throughput.lookup('qwen')).toBeUndefined();
    throughput.record('qwen', { device: 'cpu', inputTokens: 10, inputSeconds: 1, outputTokens: 10, outputSeconds: 1 });
    expect(throughput.lookup('qwen')?.calls).toBe(1);
  });
});
