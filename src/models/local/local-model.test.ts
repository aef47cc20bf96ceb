import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelCallError } from '../../errors.js';
import { collectResponse } from '../collect-response.js';
import type { JsonSchema, ModelRequest, ModelStreamEvent, ModelToolDefinition } from '../spec.js';
import { type TinyModels, testSettings, writeTinyModels } from './__fixtures__/tiny-models.js';
import { isLoaded, pendingCalls, unloadIdleModels, withLoadedModel } from './loaded-models.js';
import { createLocalModel } from './local-model.js';
import { chatmlTemplate } from './tiny-model/tiny-llama.js';

const bfcl = JSON.parse(readFileSync(new URL('./__fixtures__/bfcl-tools.json', import.meta.url), 'utf8')) as {
  tools: ModelToolDefinition[];
};
const ajv = new Ajv({ strict: false });

let models: TinyModels;
beforeAll(() => {
  models = writeTinyModels();
});
afterAll(async () => {
  await unloadIdleModels();
  models.remove();
});

const ask = (text: string, extra: Partial<ModelRequest> = {}): ModelRequest => ({
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: text },
  ],
  temperature: 1,
  // Room enough that a sampled call (or structured answer) is never cut by the limit: at 200 a
  // long random string now and then ran into it, and a cut call is rightly not a call.
  maxOutputTokens: 2000,
  ...extra,
});

describe('local model: loading and templating', () => {
  it('loads the written GGUF and renders prompts with the chat template from its metadata', async () => {
    const settings = testSettings(models.terminating);
    await withLoadedModel(settings, undefined, async (loaded) => {
      expect(loaded.model.fileInfo.metadata.general.architecture).toBe('llama');
      expect(loaded.model.fileInfo.metadata.tokenizer.chat_template).toBe(chatmlTemplate);
      // node-llama-cpp recognises the ChatML template and uses its ChatML wrapper.
      expect(loaded.chatWrapper.wrapperName).toBe('ChatML');
      const rendered = loaded.chatWrapper
        .generateContextState({
          chatHistory: [
            { type: 'user', text: 'hello world' },
            { type: 'model', response: [] },
          ],
        })
        .contextText.toString();
      expect(rendered).toContain('<|im_start|>user\nhello world<|im_end|>');
      expect(rendered.endsWith('<|im_start|>assistant\n')).toBe(true);
    });
  });

  it('counts input tokens with the model tokenizer and streams text up to the output limit', async () => {
    const model = createLocalModel({ ...testSettings(models.plain), modelId: 'plain' });
    const deltas: string[] = [];
    const response = await collectResponse(model, ask('hello world', { maxOutputTokens: 12 }), (event) => {
      if (event.type === 'text-delta') deltas.push(event.delta);
    });
    const expectedInput = await withLoadedModel(testSettings(models.plain), undefined, async (loaded) =>
      loaded.model.tokenize(
        '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n',
        true,
      ),
    );
    // The rendered prompt starts with the BOS token, which `tokenize` of the text leaves out.
    expect(response.usage.inputTokens).toBe(expectedInput.length + 1);
    expect(response.usage.outputTokens).toBe(12);
    expect(response.finishReason).toBe('length');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(response.text);
  });
});

describe('local model: tool calls constrained by grammar', () => {
  const samplesPerTool = 4;
  it(`every required call names a tool and validates against its schema (BFCL schemas, ${samplesPerTool} samples each)`, async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    let calls = 0;
    for (const tool of bfcl.tools) {
      const validate = ajv.compile(tool.inputSchema);
      for (let sample = 0; sample < samplesPerTool; sample++) {
        const response = await collectResponse(
          model,
          ask(`call ${tool.name}`, { tools: bfcl.tools, toolChoice: { type: 'tool', name: tool.name } }),
        );
        expect(response.finishReason).toBe('tool-calls');
        expect(response.toolCalls).toHaveLength(1);
        const [call] = response.toolCalls;
        expect(call?.name).toBe(tool.name);
        const args: unknown = JSON.parse(call?.arguments ?? '');
        expect(validate(args), `${tool.name}: ${call?.arguments} ${ajv.errorsText(validate.errors)}`).toBe(true);
        calls++;
      }
    }
    expect(calls).toBe(bfcl.tools.length * samplesPerTool);
  });

  it('with toolChoice "required" the model picks among all tools, and every call is valid', async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    for (let sample = 0; sample < 8; sample++) {
      const response = await collectResponse(model, ask('do something', { tools: bfcl.tools, toolChoice: 'required' }));
      const [call] = response.toolCalls;
      const tool = bfcl.tools.find((candidate) => candidate.name === call?.name);
      expect(tool, `unknown tool ${call?.name}`).toBeDefined();
      expect(ajv.validate(tool?.inputSchema as JsonSchema, JSON.parse(call?.arguments ?? ''))).toBe(true);
    }
  });

  it('without the grammar the same model does not write valid calls (the grammar is what makes them valid)', async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    for (let sample = 0; sample < 4; sample++) {
      const response = await collectResponse(model, ask('call array_sort', { maxOutputTokens: 40 }));
      let valid = false;
      try {
        const parsed = JSON.parse(response.text) as { name?: unknown };
        valid = parsed.name === 'array_sort';
      } catch {
        valid = false;
      }
      expect(valid, response.text).toBe(false);
    }
  });

  it('with toolChoice "auto" each answer is either text not starting with "{" or a valid call', async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    const tools = bfcl.tools.slice(0, 3);
    for (let sample = 0; sample < 8; sample++) {
      const response = await collectResponse(model, ask('answer or call', { tools, toolChoice: 'auto' }));
      if (response.toolCalls.length === 0) {
        expect(response.text.trimStart().startsWith('{')).toBe(false);
        continue;
      }
      const [call] = response.toolCalls;
      const tool = tools.find((candidate) => candidate.name === call?.name);
      expect(ajv.validate(tool?.inputSchema as JsonSchema, JSON.parse(call?.arguments ?? ''))).toBe(true);
    }
  });

  it('renders earlier calls and their results into the prompt', async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    const base = ask('sort these', { tools: bfcl.tools.slice(0, 2), toolChoice: 'none', maxOutputTokens: 4 });
    const withResult: ModelRequest = {
      ...base,
      messages: [
        ...base.messages,
        {
          role: 'assistant',
          content: [
            { type: 'tool-call', id: 'c1', name: 'array_sort', arguments: '{"list":[3,1],"order":"ascending"}' },
          ],
        },
        { role: 'tool', toolCallId: 'c1', toolName: 'array_sort', content: '[1, 3] sorted result' },
      ],
    };
    const first = await collectResponse(model, base);
    const second = await collectResponse(model, withResult);
    expect(second.usage.inputTokens).toBeGreaterThan((first.usage.inputTokens ?? 0) + 10);
  });
});

describe('local model: structured output', () => {
  it('output constrained to a JSON Schema always validates', async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    const schema = {
      type: 'object',
      properties: {
        title: { type: 'string', maxLength: 20 },
        score: { type: 'number' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        level: { enum: ['low', 'high'] },
      },
      required: ['title', 'score', 'tags', 'level'],
      additionalProperties: false,
    };
    const validate = ajv.compile(schema);
    for (let sample = 0; sample < 6; sample++) {
      const response = await collectResponse(
        model,
        ask('report', { responseFormat: { type: 'json-schema', name: 'report', schema } }),
      );
      expect(validate(JSON.parse(response.text)), response.text).toBe(true);
    }
  });

  it('warns about schema keywords the grammar cannot enforce', async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    const schema = {
      type: 'object',
      properties: { zip: { type: 'string', pattern: '^[0-9]{5}$' } },
      required: ['zip'],
    };
    const response = await collectResponse(
      model,
      ask('zip', { responseFormat: { type: 'json-schema', name: 'zip', schema } }),
    );
    expect(response.warnings.map((warning) => warning.message).join(' ')).toContain('pattern at zip');
    expect(typeof (JSON.parse(response.text) as { zip: unknown }).zip).toBe('string');
  });
});

describe('local model: stop sequences and warnings', () => {
  it('stops at a stop sequence and warns that a turn carries one call at most', async () => {
    const model = createLocalModel({ ...testSettings(models.terminating), modelId: 'terminating' });
    const response = await collectResponse(
      model,
      ask('report', {
        responseFormat: {
          type: 'json-schema',
          name: 'r',
          schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
        },
        stop: [':'],
      }),
    );
    // The grammar starts with {"a": so the stop sequence ":" ends the text right before it.
    expect(response.text).toBe('{"a"');
    const withTools = await collectResponse(
      model,
      ask('call', { tools: bfcl.tools.slice(0, 1), toolChoice: 'required', parallelToolCalls: true }),
    );
    expect(withTools.warnings.map((warning) => warning.setting)).toContain('parallelToolCalls');
  });
});

describe('local model: abort and the shared queue', () => {
  it('aborting mid-stream ends the generation with a model_aborted error', async () => {
    const model = createLocalModel({ ...testSettings(models.plain), modelId: 'plain' });
    const controller = new AbortController();
    const seen: ModelStreamEvent[] = [];
    const error = await collectResponse(
      model,
      ask('go on', { maxOutputTokens: 500, abortSignal: controller.signal }),
      (event) => {
        seen.push(event);
        if (event.type === 'text-delta') controller.abort();
      },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelCallError);
    expect((error as ModelCallError).code).toBe('model_aborted');
    expect(seen.filter((event) => event.type === 'text-delta').length).toBeLessThan(500);
    expect(seen.some((event) => event.type === 'finish')).toBe(false);
  });

  it('concurrent calls share one loaded model and run one after another', async () => {
    const settings = testSettings(models.plain, { idleUnloadMs: 50 });
    const model = createLocalModel({ ...settings, modelId: 'plain' });
    const log: string[] = [];
    const runs = [0, 1, 2].map((index) =>
      collectResponse(model, ask(`run ${index}`, { maxOutputTokens: 6 }), (event) => {
        if (event.type === 'stream-start' || event.type === 'finish') log.push(`${index}:${event.type}`);
      }),
    );
    await vi.waitFor(() => expect(pendingCalls(settings)).toBe(3));
    const responses = await Promise.all(runs);
    for (const response of responses) {
      expect(response.usage.outputTokens).toBeGreaterThan(0);
      expect(response.usage.outputTokens).toBeLessThanOrEqual(6);
    }
    // Each call finishes before the next one starts: no interleaving.
    for (let index = 0; index < log.length; index += 2) {
      expect(log[index]?.split(':')[0]).toBe(log[index + 1]?.split(':')[0]);
    }
    expect(isLoaded(settings)).toBe(true);
    await vi.waitFor(() => expect(isLoaded(settings)).toBe(false), { timeout: 5000 });
  });

  it('a call aborted while queued leaves without disturbing the others', async () => {
    const settings = testSettings(models.plain);
    const model = createLocalModel({ ...settings, modelId: 'plain' });
    const controller = new AbortController();
    const first = collectResponse(model, ask('first', { maxOutputTokens: 20 }));
    const second = collectResponse(model, ask('second', { maxOutputTokens: 5, abortSignal: controller.signal }));
    const third = collectResponse(model, ask('third', { maxOutputTokens: 5 }));
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'model_aborted' });
    expect((await first).usage.outputTokens).toBe(20);
    expect((await third).finishReason).not.toBe('error');
  });
});
