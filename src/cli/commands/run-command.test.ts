import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeOpenAIServer,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../../models/openai/fake-openai-server.js';
import { captureCliIo } from '../__fixtures__/captured-io.js';
import { main } from '../main.js';

/** A one-pixel PNG, as a chart export would start. */
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function answer(text: string) {
  return streamReply(
    sseBody([
      { choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { choices: [], usage: { prompt_tokens: 900, completion_tokens: 6, total_tokens: 906 } },
    ]),
  );
}

describe('hataraku run --attach', () => {
  it('sends a workspace image with the task, its type taken from its bytes', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-attach-cli-'));
    // A misleading name: the type comes from the content, not the extension.
    writeFileSync(join(cwd, 'chart.dat'), png);
    server = await startFakeOpenAIServer([answer('One dot.')]);
    const run = captureCliIo(cwd, { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseURL });
    const code = await main(
      ['run', 'What does the chart show?', '--model', 'openai:gpt-4o-mini', '--attach', 'chart.dat', '--budget', '5'],
      run.io,
    );
    expect(run.stderr()).not.toMatch(/error/i);
    expect(code).toBe(0);
    const body = server.requests[0]?.body as { messages: Array<{ role: string; content: unknown }> };
    expect(body.messages.find((message) => message.role === 'user')?.content).toEqual([
      { type: 'text', text: 'What does the chart show?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
    ]);
  });

  it('refuses a file outside the workspace, a missing one and one that is no image or PDF, in one line each', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-attach-cli-'));
    writeFileSync(join(cwd, 'notes.txt'), 'plain text');
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' };
    const cases: Array<[string, RegExp]> = [
      ['../secret.png', /outside the workspace/],
      ['missing.png', /no such file in the workspace/],
      ['notes.txt', /not a PNG, JPEG, GIF, WebP or PDF file/],
    ];
    for (const [file, message] of cases) {
      const run = captureCliIo(cwd, env);
      expect(await main(['run', 'Look.', '--model', 'openai:gpt-4o-mini', '--attach', file], run.io)).not.toBe(0);
      expect(run.stderr()).toMatch(message);
      expect(run.stderr().trim().split('\n')).toHaveLength(1);
      expect(run.stderr()).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses an image over the size limit before reading it whole', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-attach-cli-'));
    writeFileSync(join(cwd, 'huge.png'), Buffer.concat([png, Buffer.alloc(6 * 1024 * 1024)]));
    const run = captureCliIo(cwd, { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect(await main(['run', 'Look.', '--model', 'openai:gpt-4o-mini', '--attach', 'huge.png'], run.io)).not.toBe(0);
    expect(run.stderr()).toMatch(/huge\.png: 6\.0 MB is over the 5\.0 MB limit/);
  });
});
