/**
 * What the model is told when its output hit the token limit in the middle of a tool call. The
 * call is never run: its arguments are cut off, and any repair would be a guess.
 */
import type { ToolCallPart } from '../models/spec.js';

/** The message that replaces the results of calls that were cut off. */
export function truncatedCallNotice(calls: readonly ToolCallPart[], maxOutputTokens: number | undefined): string {
  const names = [...new Set(calls.map((call) => call.name))].join(', ');
  const limit =
    maxOutputTokens === undefined ? 'the output token limit' : `the output limit of ${maxOutputTokens} tokens`;
  return `Your last reply was cut off by ${limit} while writing a call to ${names}, so it was not run. Call it again in full, with shorter arguments (write large content in several smaller calls), or answer without it.`;
}
