import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeHub, startFakeHub } from './fake-hugging-face-server.js';
import { listCachedModels, removeCachedModel, resolveLocalModelPath } from './model-cache.js';
import { pullModel } from './pull-model.js';

const repo = 'acme/tiny-instruct-GGUF';
const content = randomBytes(300_000);
let hub: FakeHub;
let modelsDirectory: string;

beforeAll(async () => {
  hub = await startFakeHub([
    { repo, path: 'tiny-instruct-q4_k_m.gguf', content },
    { repo, path: 'tiny-instruct-q8_0.gguf', content: content.subarray(0, 1000) },
    { repo: 'acme/liar', path: 'liar.gguf', content, reportedSha256: 'a'.repeat(64) },
  ]);
});
afterAll(() => hub.close());
beforeEach(() => {
  modelsDirectory = mkdtempSync(join(tmpdir(), 'hataraku-models-'));
  hub.ranges.length = 0;
});
afterEach(() => rmSync(modelsDirectory, { recursive: true, force: true }));

const pull = (extra: Partial<Parameters<typeof pullModel>[0]> = {}) =>
  pullModel({
    source: repo,
    file: 'tiny-instruct-q4_k_m.gguf',
    modelsDirectory,
    env: { HF_ENDPOINT: hub.url },
    ...extra,
  });

describe('models pull', () => {
  it('downloads a repository file into the cache, checks its sha256 from the API, and reports progress', async () => {
    const progress: number[] = [];
    const result = await pull({ onProgress: (received) => progress.push(received) });
    expect(result.alias).toBe('tiny-instruct-q4_k_m');
    expect(result.verified).toBe(true);
    expect(readFileSync(result.path).equals(content)).toBe(true);
    expect(progress.at(-1)).toBe(content.length);
    expect(existsSync(`${result.path}.partial`)).toBe(false);
    expect(
      listCachedModels(modelsDirectory).map((model) => [model.alias, model.bytes, model.manifest?.sha256]),
    ).toEqual([['tiny-instruct-q4_k_m', content.length, result.sha256]]);
    expect(resolveLocalModelPath('tiny-instruct-q4_k_m', modelsDirectory, '/')).toBe(result.path);
  });

  it('resumes an interrupted download with a Range request', async () => {
    hub.cutNextDownloadAfter(100_000);
    await expect(pull()).rejects.toThrow(/run the same pull again to resume/);
    const partial = join(modelsDirectory, 'tiny-instruct-q4_k_m.gguf.partial');
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(content.length);
    const result = await pull();
    expect(result.resumedFrom).toBe(kept);
    expect(hub.ranges.at(-1)).toBe(`bytes=${kept}-`);
    expect(readFileSync(result.path).equals(content)).toBe(true);
    expect(result.verified).toBe(true);
  });

  it('deletes the download when the checksum does not match', async () => {
    await expect(pull({ source: 'acme/liar', file: 'liar.gguf' })).rejects.toThrow(/checksum mismatch/);
    expect(listCachedModels(modelsDirectory)).toEqual([]);
    expect(existsSync(join(modelsDirectory, 'liar.gguf.partial'))).toBe(false);
  });

  it('checks a --sha256 given for a plain URL', async () => {
    const url = `${hub.url}/${repo}/resolve/main/tiny-instruct-q8_0.gguf`;
    await expect(pull({ source: url, file: undefined, sha256: 'b'.repeat(64) })).rejects.toThrow(/checksum mismatch/);
    const unchecked = await pull({ source: url, file: undefined });
    expect(unchecked.verified).toBe(false);
    expect(unchecked.bytes).toBe(1000);
  });

  it('asks for --file when a repository has several GGUF files, and names them', async () => {
    await expect(pull({ file: undefined })).rejects.toThrow(
      /has 2 GGUF files; pick one with --file \(tiny-instruct-q4_k_m.gguf, tiny-instruct-q8_0.gguf\)/,
    );
    await expect(pull({ source: 'acme/missing' })).rejects.toThrow(/not found \(404\)/);
  });

  it('says clearly when the hub cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await pull({ env: { HF_ENDPOINT: `http://127.0.0.1:${port}` } }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /^cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); check the network \(offline\?\)/,
    );
    expect(listCachedModels(modelsDirectory)).toEqual([]);
  });
});

describe('models list and rm', () => {
  it('removes a cached model with its manifest, and refuses aliases that are paths', async () => {
    const result = await pull();
    expect(removeCachedModel(modelsDirectory, 'tiny-instruct-q4_k_m').alias).toBe('tiny-instruct-q4_k_m');
    expect(existsSync(result.path)).toBe(false);
    expect(existsSync(`${result.path}.json`)).toBe(false);
    expect(() => removeCachedModel(modelsDirectory, 'tiny-instruct-q4_k_m')).toThrow(
      /no model "tiny-instruct-q4_k_m" in the cache/,
    );
    expect(() => removeCachedModel(modelsDirectory, '../etc/passwd')).toThrow(/is not valid/);
  });
});
