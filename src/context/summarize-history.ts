/**
 * `summarizeHistory`: once the history passes a token threshold, older turns are replaced by a
 * summary written by a cheap model, sent as one message after the task; the last turns are
 * kept as they are.
 *
 * Where the history is cut is recomputed from the history at every call by replaying the rule
 * over each earlier model call (see `modelCallPoints`), so the cut only moves when the
 * unsummarized part passes the threshold again, and a resumed run cuts in the same places. A
 * later summary covers the previous one plus the turns after it.
 *
 * Summaries are cached by content: the file `.hataraku/summaries/<digest>.txt` in the workspace
 * is named by the digest of what it summarizes (the previous summary, the turns, the model and
 * the instructions), so each summary is computed once, and a resumed run reads it back instead
 * of calling the model again. Each model call made here is returned in `modelCalls` so that the
 * caller can price and record it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { digestOf } from '../engine/digest.js';
import { collectResponse } from '../models/collect-response.js';
import { userContentText } from '../models/message-content.js';
import { modelLabel } from '../models/model-label.js';
import type { Model, ModelMessage } from '../models/spec.js';
import { type ContextInput, type ContextModelCall, type ContextStrategy, modelCallPoints } from './context-strategy.js';
import { countMessageTokens, countToolDefinitionTokens, tokenizerFor } from './token-counter.js';

export interface SummarizeOptions {
  /** The (cheap) model that writes summaries. */
  model: Model;
  /** Summarize once the task and the unsummarized turns pass this many tokens. */
  thresholdTokens: number;
  /** Messages at the end of the history that are never summarized (default 6). */
  keepLastMessages?: number;
  /** Most tokens a summary may take (default 1,024). */
  maxSummaryTokens?: number;
  /** Characters of each message shown to the summarizer (default 6,000; longer ones are cut). */
  maxCharactersPerMessage?: number;
  /** Workspace-relative directory of the summary cache (default `.hataraku/summaries`). */
  directory?: string;
  /** Replaces the default instructions to the summarizer. */
  instructions?: string;
}

export const defaultSummaryInstructions = [
  'You condense the earlier part of an AI agent’s work so that the agent can continue without it.',
  'Write a compact summary in plain text: what the task is, what has been done, what was decided, and',
  'every concrete fact found (numbers, names, identifiers, dates, file paths and line numbers), copied exactly.',
  'Keep every workspace file path where a full tool result is stored, so that it can be read again.',
  'Do not invent anything and do not give advice. Answer with the summary only.',
].join(' ');

/** Marks the summary message in the history sent to the model. */
export const summaryMessagePrefix = '[Summary of earlier steps';

/** Create the strategy. */
export function summarizeHistory(options: SummarizeOptions): ContextStrategy {
  const keepLastMessages = options.keepLastMessages ?? 6;
  const maxSummaryTokens = options.maxSummaryTokens ?? 1_024;
  const maxCharactersPerMessage = options.maxCharactersPerMessage ?? 6_000;
  const directory = (options.directory ?? '.hataraku/summaries').replace(/\/+$/, '');
  const instructions = options.instructions ?? defaultSummaryInstructions;
  const modelName = modelLabel(options.model);
  if (!Number.isFinite(options.thresholdTokens) || options.thresholdTokens <= 0)
    throw new RangeError(
      `summarizeHistory: thresholdTokens must be a positive number (got ${options.thresholdTokens})`,
    );
  if (!Number.isInteger(keepLastMessages) || keepLastMessages < 1)
    throw new RangeError(`summarizeHistory: keepLastMessages must be a positive integer (got ${keepLastMessages})`);
  // Summaries this process knows, by digest: used when there is no workspace, and to skip file reads.
  const remembered = new Map<string, string>();
  // One summary message object per summary text, so that its token count is cached.
  const summaryMessages = new Map<string, ModelMessage>();

  async function summaryFor(
    previous: string | undefined,
    span: readonly ModelMessage[],
    workspace: string | undefined,
    modelCalls: ContextModelCall[],
  ): Promise<{ text: string; digest: string }> {
    const request = summaryRequest(instructions, previous, span, maxCharactersPerMessage, maxSummaryTokens);
    const digest = digestOf({ version: 1, model: modelName, request });
    const known = remembered.get(digest);
    if (known !== undefined) return { text: known, digest };
    const path = workspace === undefined ? undefined : join(workspace, directory, `${digest}.txt`);
    if (path !== undefined) {
      const cached = await readFile(path, 'utf8').catch(() => undefined);
      if (cached !== undefined) {
        remembered.set(digest, cached);
        return { text: cached, digest };
      }
    }
    const response = await collectResponse(options.model, request);
    modelCalls.push({ purpose: 'summary', model: modelName, digest, response });
    const text = response.text.trim();
    if (text === '') throw new Error(`the summarizer ${modelName} returned an empty summary`);
    if (path !== undefined) {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${randomUUID()}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, path);
    }
    remembered.set(digest, text);
    return { text, digest };
  }

  return {
    name: 'summarize-history',
    async prepare(input) {
      const messages = input.messages;
      const cuts = summaryCuts(input, options.thresholdTokens, keepLastMessages);
      if (cuts.length === 0) return { messages: [...messages], notes: [], modelCalls: [] };
      const head = headLength(messages);
      const modelCalls: ContextModelCall[] = [];
      let summary: string | undefined;
      let start = head;
      try {
        for (const cut of cuts) {
          summary = (await summaryFor(summary, messages.slice(start, cut), input.workspace, modelCalls)).text;
          start = cut;
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return {
          messages: [...messages],
          notes: [`summarize-history: no summary this call, the full history is sent (${reason})`],
          modelCalls,
        };
      }
      const text = `${summaryMessagePrefix} (messages ${head + 1}–${start} of this run, condensed by ${modelName}); the full tool results are no longer shown:]\n${summary}`;
      let summaryMessage = summaryMessages.get(text);
      if (summaryMessage === undefined) {
        summaryMessage = { role: 'user', content: text };
        summaryMessages.set(text, summaryMessage);
      }
      const notes = modelCalls.map(
        (call) =>
          `summarize-history: summarized messages up to ${start} with ${call.model} (${call.digest.slice(0, 12)})`,
      );
      return { messages: [...messages.slice(0, head), summaryMessage, ...messages.slice(start)], notes, modelCalls };
    },
  };
}

/** The system prompts and the first user message (the task): never summarized. */
function headLength(messages: readonly ModelMessage[]): number {
  let index = 0;
  while (messages[index]?.role === 'system') index++;
  if (messages[index]?.role === 'user') index++;
  return index;
}

/**
 * Where the history is cut, replaying the rule over each model call: when the head and the
 * unsummarized messages pass the threshold, everything before the latest assistant turn that
 * leaves at least `keepLastMessages` messages is summarized. Cuts fall before assistant turns, so
 * a tool result is never separated from its call.
 */
export function summaryCuts(
  input: Pick<ContextInput, 'messages' | 'tools' | 'modelName'>,
  thresholdTokens: number,
  keepLastMessages: number,
): number[] {
  const { messages } = input;
  const { encoding } = tokenizerFor(input.modelName);
  const head = headLength(messages);
  const counts = messages.map((message) => countMessageTokens(message, encoding));
  const fixed = countToolDefinitionTokens(input.tools, encoding) + counts.slice(0, head).reduce((a, b) => a + b, 0);
  const cuts: number[] = [];
  let start = head;
  let unsummarized = 0;
  let counted = head;
  for (const point of modelCallPoints(messages)) {
    while (counted < point) unsummarized += counts[counted++] as number;
    if (fixed + unsummarized <= thresholdTokens) continue;
    let cut = -1;
    for (let position = point - keepLastMessages; position > start; position--) {
      if (messages[position]?.role === 'assistant') {
        cut = position;
        break;
      }
    }
    if (cut === -1) continue;
    for (let position = start; position < cut; position++) unsummarized -= counts[position] as number;
    cuts.push(cut);
    start = cut;
  }
  return cuts;
}

function summaryRequest(
  instructions: string,
  previous: string | undefined,
  span: readonly ModelMessage[],
  maxCharactersPerMessage: number,
  maxSummaryTokens: number,
) {
  const lines: string[] = [];
  if (previous !== undefined) lines.push('Summary of the steps before these:', previous, '', 'The steps since then:');
  for (const message of span) lines.push(renderMessage(message, maxCharactersPerMessage));
  return {
    messages: [
      { role: 'system' as const, content: instructions },
      { role: 'user' as const, content: lines.join('\n') },
    ],
    maxOutputTokens: maxSummaryTokens,
    temperature: 0,
  };
}

function renderMessage(message: ModelMessage, maxCharacters: number): string {
  const cut = (text: string) =>
    text.length <= maxCharacters
      ? text
      : `${text.slice(0, maxCharacters)} [... ${text.length - maxCharacters} more characters]`;
  switch (message.role) {
    case 'system':
      return `SYSTEM: ${cut(message.content)}`;
    case 'user':
      return `USER: ${cut(userContentText(message.content))}`;
    case 'assistant':
      return message.content
        .filter((part) => part.type !== 'reasoning')
        .map((part) =>
          part.type === 'tool-call'
            ? `ASSISTANT CALLED ${part.name} ${cut(part.arguments)}`
            : `ASSISTANT: ${cut(part.text)}`,
        )
        .join('\n');
    case 'tool':
      return `RESULT OF ${message.toolName}${message.isError === true ? ' (error)' : ''}: ${cut(message.content)}`;
  }
}
