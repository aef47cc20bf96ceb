import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.js';
import { HatarakuError } from '../errors.js';
import {
  type FakeAnthropicServer,
  sseEvent,
  startFakeAnthropicServer,
} from '../models/anthropic/fake-anthropic-server.js';
import { collectResponse } from '../models/collect-response.js';
import { createModel } from './model-registry.js';

let server: FakeAnthropicServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function configIn(config: unknown, env: Record<string, string>) {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-create-model-'));
  writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify(config));
  return { cwd, config: loadConfig({ cwd, env }) };
}

describe('createModel: Anthropic extended thinking from config', () => {
  it('turns thinking on with the budget set under providers.anthropic.thinkingBudgetTokens', async () => {
    server = await startFakeAnthropicServer();
    server.reply({
      body:
        sseEvent({ type: 'message_start', message: { usage: { input_tokens: 10, output_tokens: 1 } } }) +
        sseEvent({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } }) +
        sseEvent({ type: 'message_stop' }),
    });
    const { cwd, config } = configIn(
      { providers: { anthropic: { baseURL: server.baseURL, thinkingBudgetTokens: 2048, maxRetries: 0 } } },
      { ANTHROPIC_API_KEY: 'sk-ant-test' },
    );
    const model = createModel('anthropic:claude-sonnet-4-5', { config, cwd });
    await collectResponse(model, { messages: [{ role: 'user', content: 'Hi' }] });
    expect(server.requests[0]?.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 } });
  });

  it('refuses a budget under the API minimum with an error naming the setting', () => {
    expect(() =>
      configIn({ providers: { anthropic: { thinkingBudgetTokens: 100 } } }, { ANTHROPIC_API_KEY: 'sk-ant-test' }),
    ).toThrow(HatarakuError);
    expect(() =>
      configIn({ providers: { anthropic: { thinkingBudgetTokens: 100 } } }, { ANTHROPIC_API_KEY: 'sk-ant-test' }),
    ).toThrow(/thinkingBudgetTokens/);
  });
});
