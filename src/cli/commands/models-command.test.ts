import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeHub, startFakeHub } from '../../models/local/fake-hugging-face-server.js';
import { captureCliIo } from '../__fixtures__/captured-io.js';
import { main } from '../main.js';

let hub: FakeHub;
let directory: string;
beforeAll(async () => {
  hub = await startFakeHub([{ repo: 'acme/tiny-GGUF', path: 'tiny-q4_k_m.gguf', content: randomBytes(50_000) }]);
  directory = mkdtempSync(join(tmpdir(), 'hataraku-models-cli-'));
});
afterAll(async () => {
  await hub.close();
  rmSync(directory, { recursive: true, force: true });
});

function cli(args: string[]) {
  const captured = captureCliIo(directory, {
    HF_ENDPOINT: hub.url,
    HATARAKU_MODELS_DIR: join(directory, 'models'),
  });
  return main(args, captured.io).then((code) => ({ code, stdout: captured.stdout(), stderr: captured.stderr() }));
}

describe('hataraku models', () => {
  it('pulls with progress on stderr, lists, and removes', async () => {
    const pulled = await cli(['models', 'pull', 'acme/tiny-GGUF', '--file', 'tiny-q4_k_m.gguf']);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain('Pulled tiny-q4_k_m (0.1 MB; sha256 checked).');
    expect(pulled.stdout).toContain('hataraku run --model local:tiny-q4_k_m');
    expect(pulled.stderr).toContain('downloaded 0.1 MB of 0.1 MB');

    const listed = await cli(['models', 'list']);
    expect(listed.stdout).toMatch(/local:tiny-q4_k_m {2}0\.1 MB {2}not measured yet/);

    expect((await cli(['models', 'rm', 'tiny-q4_k_m'])).stdout).toBe('Removed tiny-q4_k_m (0.1 MB).\n');
    const empty = await cli(['models', 'list']);
    expect(empty.stdout).toMatch(/^No models in .*models\. Pull one: hataraku models pull/);
  });

  it('reports a missing file in one line', async () => {
    const missing = await cli(['models', 'pull', 'acme/tiny-GGUF', '--file', 'nope.gguf']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('hataraku: acme/tiny-GGUF has no file nope.gguf; its GGUF files: tiny-q4_k_m.gguf.\n');
  });
});
