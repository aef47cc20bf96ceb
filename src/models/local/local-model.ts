/**
 * The `local` provider: a GGUF model run in process by node-llama-cpp (`local:<file.gguf>` or
 * `local:<alias>` from the model cache). No server, no key.
 *
 * - The prompt is rendered by the chat template in the model's own metadata (node-llama-cpp
 *   resolves it to a matching built-in wrapper or runs the Jinja template itself).
 * - Tools: when a call is required (`toolChoice` `required` or a named tool), generation is
 *   constrained to a grammar that only produces `{"name": …, "arguments": …}` with arguments
 *   valid against that tool's JSON Schema, so every call parses and validates by construction.
 *   When the model may answer or call (`auto`), the grammar is a choice made by the first
 *   character: `{` starts a call, held to the same tool-call grammar; anything else is free text.
 *   One call per turn.
 * - Structured output (`responseFormat` json-schema or json) is constrained the same way.
 * - Usage is counted with the model's own tokenizer; each call's timing feeds the throughput
 *   store that prices local runs.
 */
import { randomInt } from 'node:crypto';
import type { LlamaGrammar } from 'node-llama-cpp';
import { ModelCallError } from '../../errors.js';
import type {
  FinishReason,
  Model,
  ModelRequest,
  ModelStreamEvent,
  ModelToolDefinition,
  ModelWarning,
} from '../spec.js';
import { toChatHistory } from './chat-history.js';
import { createCallOrTextGrammar, createJsonGrammar, createJsonSchemaGrammar } from './grammars.js';
import { toGrammarSchema, toolCallSchema } from './json-schema-grammar.js';
import { type LoadedModel, type LocalModelSettings, withLoadedModel } from './loaded-models.js';
import type { ThroughputStore } from './throughput-store.js';

export interface LocalModelOptions extends LocalModelSettings {
  /** Model id to report (`local:<modelId>`): the alias or the path as given. */
  modelId: string;
  /** Where measured throughput is recorded; omitted: not recorded. */
  throughput?: ThroughputStore;
}

/** What the grammar lets the model produce. */
type GenerationPlan =
  | { kind: 'free' }
  | { kind: 'call'; grammarKey: string; build: (loaded: LoadedModel) => Promise<LlamaGrammar> }
  | { kind: 'call-or-text'; grammarKey: string; build: (loaded: LoadedModel) => Promise<LlamaGrammar> }
  | { kind: 'structured'; grammarKey: string; build: (loaded: LoadedModel) => Promise<LlamaGrammar> };

/** Create a model that runs `modelPath` in this process. */
export function createLocalModel(options: LocalModelOptions): Model {
  const { modelId, throughput, ...settings } = options;
  const name = `local:${modelId}`;

  function modelError(
    code: 'model_aborted' | 'model_bad_request' | 'model_server_error',
    message: string,
    cause?: unknown,
  ) {
    return new ModelCallError({
      code,
      provider: 'local',
      modelId,
      retryable: false,
      message: `${name}: ${message}`,
      cause,
    });
  }

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const warnings: ModelWarning[] = [];
    const plan = planGeneration(request, warnings, modelId);
    if (request.parallelToolCalls === true && (request.tools?.length ?? 0) > 0) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'parallelToolCalls',
        message: 'the local provider makes at most one tool call per turn (its grammar produces one call)',
      });
    }
    const channel = createChannel<ModelStreamEvent>();
    const internal = new AbortController();
    const signal = request.abortSignal ? AbortSignal.any([request.abortSignal, internal.signal]) : internal.signal;

    const generation = withLoadedModel(settings, signal, async (loaded) => {
      const grammar = plan.kind === 'free' ? undefined : await grammarFor(loaded, plan.grammarKey, plan.build);
      const tools = request.toolChoice === 'none' ? [] : (request.tools ?? []);
      let history = toChatHistory(request.messages, warnings);
      if (tools.length > 0) {
        history = [
          ...loaded.chatWrapper.addAvailableFunctionsSystemMessageToHistory(history, functionsFor(tools), {
            documentParams: true,
          }),
        ];
      }
      const inputTokens = loaded.chatWrapper
        .generateContextState({ chatHistory: history })
        .contextText.tokenize(loaded.model.tokenizer).length;
      const contextSize = loaded.context.contextSize;
      if (inputTokens >= contextSize) {
        throw modelError(
          'model_bad_request',
          `the prompt is ${inputTokens} tokens but the context holds ${contextSize}; raise "local": { "contextSize" } in hataraku.config.json (up to the model's trained context) or shorten the prompt.`,
        );
      }
      channel.push({ type: 'stream-start', warnings });

      // In call-or-text mode the first non-blank character decides; until then text is held back.
      let mode: 'undecided' | 'text' | 'call' =
        plan.kind === 'call' ? 'call' : plan.kind === 'call-or-text' ? 'undecided' : 'text';
      let held = '';
      const meter = loaded.chat.sequence.tokenMeter;
      const meterBefore = meter.getState();
      const startedAt = performance.now();
      let firstTokenAt: number | undefined;
      const result = await loaded.chat.generateResponse(history, {
        ...(grammar ? { grammar } : {}),
        signal,
        ...(request.maxOutputTokens !== undefined ? { maxTokens: request.maxOutputTokens } : {}),
        ...(request.stop && request.stop.length > 0 ? { customStopTriggers: request.stop } : {}),
        ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
        // node-llama-cpp seeds with the current second by default: calls within one second would repeat.
        seed: randomInt(2 ** 31),
        onToken: () => {
          firstTokenAt ??= performance.now();
        },
        onTextChunk: (text) => {
          if (mode === 'text') {
            channel.push({ type: 'text-delta', delta: text });
            return;
          }
          held += text;
          if (mode === 'undecided' && held.trim() !== '') {
            mode = held.trimStart().startsWith('{') ? 'call' : 'text';
            if (mode === 'text') {
              channel.push({ type: 'text-delta', delta: held });
              held = '';
            }
          }
        },
      });
      const endedAt = performance.now();
      // node-llama-cpp's meter counts what was evaluated: prompt tokens not already in the
      // sequence's cache from the previous call, and generated tokens.
      const { usedInputTokens: evaluatedInputTokens, usedOutputTokens: outputTokens } = meter.diff(meterBefore);
      throughput?.record(modelId, {
        device: loaded.device,
        inputTokens: evaluatedInputTokens,
        inputSeconds: ((firstTokenAt ?? endedAt) - startedAt) / 1000,
        outputTokens: Math.max(0, outputTokens - 1),
        outputSeconds: firstTokenAt === undefined ? 0 : (endedAt - firstTokenAt) / 1000,
      });

      const stopReason = result.metadata.stopReason;
      let finishReason: FinishReason =
        stopReason === 'maxTokens' ? 'length' : stopReason === 'abort' ? 'other' : 'stop';
      const callText = (mode === 'call' ? held : '').trim();
      if (callText !== '') {
        const call = parseCall(callText);
        if (call && finishReason !== 'length') {
          const id = `call_${Math.random().toString(36).slice(2, 10)}`;
          channel.push({ type: 'tool-call-start', id, name: call.name, index: 0 });
          channel.push({ type: 'tool-call-delta', id, argumentsDelta: call.arguments });
          channel.push({ type: 'tool-call-end', id, name: call.name, arguments: call.arguments });
          finishReason = 'tool-calls';
        } else {
          // Only an output limit can cut a grammar-held call short; pass the text on as it is.
          channel.push({
            type: 'warning',
            warning: {
              type: 'other',
              message: `${name}: the tool call was cut short by maxOutputTokens (${request.maxOutputTokens}); raise it`,
            },
          });
          channel.push({ type: 'text-delta', delta: callText });
        }
      } else if (mode === 'undecided' && held !== '') {
        channel.push({ type: 'text-delta', delta: held });
      }
      channel.push({
        type: 'usage',
        usage: { inputTokens, outputTokens, cachedInputTokens: Math.max(0, inputTokens - evaluatedInputTokens) },
      });
      channel.push({ type: 'finish', finishReason, providerFinishReason: stopReason });
    });
    generation.then(
      () => channel.close(),
      (error: unknown) => {
        if (signal.aborted) channel.fail(modelError('model_aborted', 'the request was aborted.', error));
        else if (error instanceof ModelCallError) channel.fail(error);
        else channel.fail(modelError('model_server_error', `generation failed: ${(error as Error).message}`, error));
      },
    );
    try {
      yield* channel.drain();
    } finally {
      // A consumer that stops reading ends the generation too.
      internal.abort(new Error('stream closed by the consumer'));
      await generation.catch(() => undefined);
    }
  }

  return { specificationVersion: 'v1', provider: 'local', modelId, stream };
}

function planGeneration(request: ModelRequest, warnings: ModelWarning[], modelId: string): GenerationPlan {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? 'auto';
  const warnUnenforced = (what: string, unenforced: string[]) => {
    if (unenforced.length === 0) return;
    warnings.push({
      type: 'other',
      setting: what,
      message: `the grammar cannot enforce ${unenforced.join(', ')}; those are checked after generation`,
    });
  };
  if (tools.length > 0 && choice !== 'none') {
    const chosen = typeof choice === 'object' ? tools.filter((tool) => tool.name === choice.name) : tools;
    if (chosen.length === 0) {
      throw new ModelCallError({
        code: 'model_bad_request',
        provider: 'local',
        modelId,
        retryable: false,
        message: `local:${modelId}: toolChoice names "${typeof choice === 'object' ? choice.name : ''}", which is not among the request's tools.`,
      });
    }
    const { schema, unenforced } = toolCallSchema(chosen);
    warnUnenforced('tools', unenforced);
    const key = JSON.stringify(schema);
    if (choice === 'auto') {
      return {
        kind: 'call-or-text',
        grammarKey: `call-or-text:${key}`,
        build: ({ llama }) => createCallOrTextGrammar(llama, schema),
      };
    }
    return { kind: 'call', grammarKey: `call:${key}`, build: ({ llama }) => createJsonSchemaGrammar(llama, schema) };
  }
  const format = request.responseFormat;
  if (format?.type === 'json-schema') {
    const { schema, unenforced } = toGrammarSchema(format.schema);
    warnUnenforced('responseFormat', unenforced);
    return {
      kind: 'structured',
      grammarKey: `structured:${JSON.stringify(schema)}`,
      build: ({ llama }) => createJsonSchemaGrammar(llama, schema),
    };
  }
  if (format?.type === 'json') {
    return { kind: 'structured', grammarKey: 'json', build: ({ llama }) => createJsonGrammar(llama) };
  }
  return { kind: 'free' };
}

function grammarFor(
  loaded: LoadedModel,
  key: string,
  build: (loaded: LoadedModel) => Promise<LlamaGrammar>,
): Promise<LlamaGrammar> {
  let grammar = loaded.grammars.get(key);
  if (!grammar) {
    grammar = build(loaded);
    grammar.catch(() => loaded.grammars.delete(key));
    loaded.grammars.set(key, grammar);
  }
  return grammar;
}

function functionsFor(tools: readonly ModelToolDefinition[]) {
  return Object.fromEntries(
    tools.map((tool) => [
      tool.name,
      { description: tool.description, params: toGrammarSchema(tool.inputSchema).schema },
    ]),
  );
}

function parseCall(text: string): { name: string; arguments: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { name, arguments: args } = parsed as { name?: unknown; arguments?: unknown };
    if (typeof name !== 'string') return undefined;
    return { name, arguments: JSON.stringify(args ?? {}) };
  } catch {
    return undefined;
  }
}

/** A queue of values from callbacks to an async iterator. */
function createChannel<T>() {
  const items: T[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  return {
    push(item: T) {
      items.push(item);
      notify();
    },
    close() {
      done = true;
      notify();
    },
    fail(error: unknown) {
      failure = { error };
      done = true;
      notify();
    },
    async *drain(): AsyncGenerator<T> {
      for (;;) {
        while (items.length > 0) yield items.shift() as T;
        if (failure) throw failure.error;
        if (done) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}
