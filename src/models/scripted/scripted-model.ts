/**
 * The scripted model: a documented provider that replays a script of model turns (text and tool
 * calls) for tests, demos and benchmarks, and records every request it receives.
 *
 * Turn selection is stateless: the reply to a request is the script turn whose index equals the
 * number of assistant messages already in the request. So a run resumed from a journal, which
 * replays committed turns without calling the model, gets the right next turn from a fresh
 * process. A script file looks like:
 *
 * ```json
 * { "version": 1,
 *   "turns": [
 *     { "toolCalls": [{ "name": "read_file", "arguments": { "path": "notes.txt" } }] },
 *     { "text": "The notes say hello.", "usage": { "inputTokens": 120, "outputTokens": 8 } } ] }
 * ```
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ModelCallError, UserError } from '../../errors.js';
import {
  type FinishReason,
  finishReasons,
  type Model,
  type ModelRequest,
  type ModelStreamEvent,
  type Usage,
} from '../spec.js';

const scriptedToolCallSchema = z.object({
  id: z.string().optional(),
  name: z.string().min(1),
  /** An object (encoded as JSON for the model) or raw text, to script malformed arguments. */
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).default({}),
});

const scriptedTurnSchema = z.object({
  text: z.string().default(''),
  toolCalls: z.array(scriptedToolCallSchema).default([]),
  usage: z
    .object({
      inputTokens: z.number().int().nonnegative().optional(),
      outputTokens: z.number().int().nonnegative().optional(),
      cachedInputTokens: z.number().int().nonnegative().optional(),
      cacheWriteTokens: z.number().int().nonnegative().optional(),
    })
    .optional(),
  finishReason: z.enum(finishReasons).optional(),
  /** Reasoning the model reports before its answer (kept in the history like a real provider's). */
  reasoning: z.string().optional(),
  /** A refusal: the turn ends with finish reason `refusal` and these words. */
  refusal: z.string().optional(),
  /** Milliseconds to wait before the first event, to imitate model latency. */
  delayMs: z.number().int().nonnegative().default(0),
});

export const scriptSchema = z.object({
  version: z.literal(1).default(1),
  description: z.string().optional(),
  turns: z.array(scriptedTurnSchema).min(1),
});

export type Script = z.input<typeof scriptSchema>;
export type ScriptedTurn = z.output<typeof scriptedTurnSchema>;

export interface ScriptedModelOptions {
  /** The script itself, or a path to a script JSON file. */
  script: Script | string;
  /** Model id to report; defaults to the script path or `script`. */
  modelId?: string;
  /** Append each request received, as one JSON line, to this file. */
  recordTo?: string;
  /** Characters per streamed text or argument chunk (default 16). */
  chunkSize?: number;
}

export interface ScriptedModel extends Model {
  /** Requests received by this instance, in order. */
  readonly requests: ReadonlyArray<ModelRequest>;
}

/** Parse and validate a script from a file, with one clear line on failure. */
export function loadScript(path: string): z.output<typeof scriptSchema> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError('script_invalid', `scripted model: cannot read script ${path} (${(error as Error).message}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError('script_invalid', `scripted model: ${path} is not valid JSON (${(error as Error).message}).`);
  }
  return parseScript(json, path);
}

function parseScript(json: unknown, where: string): z.output<typeof scriptSchema> {
  const parsed = scriptSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new UserError('script_invalid', `scripted model: ${where}: ${path}: ${issue?.message ?? 'invalid script'}.`);
  }
  return parsed.data;
}

export function createScriptedModel(options: ScriptedModelOptions): ScriptedModel {
  const script =
    typeof options.script === 'string' ? loadScript(resolve(options.script)) : parseScript(options.script, 'script');
  const modelId = options.modelId ?? (typeof options.script === 'string' ? options.script : 'script');
  const chunkSize = options.chunkSize ?? 16;
  const requests: ModelRequest[] = [];

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    requests.push(request);
    if (options.recordTo) {
      const { abortSignal: _signal, ...recordable } = request;
      appendFileSync(options.recordTo, `${JSON.stringify(recordable)}\n`);
    }
    const turnIndex = request.messages.filter((message) => message.role === 'assistant').length;
    const turn = script.turns[turnIndex];
    if (!turn) {
      throw new ModelCallError({
        code: 'script_invalid',
        provider: 'scripted',
        modelId,
        retryable: false,
        message: `scripted:${modelId}: the script has ${script.turns.length} turns but the run asked for turn ${turnIndex + 1}; add turns or end the run sooner.`,
      });
    }
    if (turn.delayMs > 0) await delay(turn.delayMs, request.abortSignal);
    if (request.abortSignal?.aborted) {
      throw new ModelCallError({
        code: 'model_aborted',
        provider: 'scripted',
        modelId,
        retryable: false,
        message: `scripted:${modelId}: the request was aborted.`,
      });
    }
    yield { type: 'stream-start', warnings: [] };
    if (turn.reasoning !== undefined) {
      for (const piece of chunk(turn.reasoning, chunkSize)) yield { type: 'reasoning-delta', delta: piece };
      yield { type: 'reasoning', part: { type: 'reasoning', text: turn.reasoning } };
    }
    for (const piece of chunk(turn.text, chunkSize)) yield { type: 'text-delta', delta: piece };
    if (turn.refusal !== undefined) yield { type: 'refusal', text: turn.refusal };
    for (const [index, call] of turn.toolCalls.entries()) {
      const id = call.id ?? `call_${turnIndex + 1}_${index + 1}`;
      const argumentText = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
      yield { type: 'tool-call-start', id, name: call.name, index };
      for (const piece of chunk(argumentText, chunkSize)) yield { type: 'tool-call-delta', id, argumentsDelta: piece };
      yield { type: 'tool-call-end', id, name: call.name, arguments: argumentText };
    }
    yield { type: 'usage', usage: usageFor(turn, request) };
    const finishReason: FinishReason =
      turn.finishReason ?? (turn.refusal !== undefined ? 'refusal' : turn.toolCalls.length > 0 ? 'tool-calls' : 'stop');
    yield { type: 'finish', finishReason };
  }

  return { specificationVersion: 'v1', provider: 'scripted', modelId, requests, stream };
}

/**
 * Usage from the script when given; otherwise a deterministic count of about four characters
 * per token over the request and the turn, so that scripted runs exercise cost accounting.
 */
function usageFor(turn: ScriptedTurn, request: ModelRequest): Usage {
  const estimate = (characters: () => number) => Math.ceil(characters() / 4);
  return {
    inputTokens:
      turn.usage?.inputTokens ??
      estimate(() =>
        request.messages.reduce(
          (total, message) => total + JSON.stringify(message).length,
          JSON.stringify(request.tools ?? []).length,
        ),
      ),
    outputTokens: turn.usage?.outputTokens ?? estimate(() => turn.text.length + JSON.stringify(turn.toolCalls).length),
    cachedInputTokens: turn.usage?.cachedInputTokens,
    cacheWriteTokens: turn.usage?.cacheWriteTokens,
  };
}

function chunk(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces;
}

function delay(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolvePromise) => {
    const timer = setTimeout(finish, milliseconds);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolvePromise();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
