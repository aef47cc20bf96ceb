/**
 * What the next turn's history shows of a tool call the model made. The model's own argument
 * text may be malformed (single quotes, a trailing comma, a string where a number belongs); the
 * call ran with repaired arguments, and servers such as Ollama (400), vLLM and llama.cpp (500)
 * reject a history whose arguments are not JSON, on every retry. So the history carries the
 * arguments as executed, in canonical JSON; a call that could not be read at all carries `{}`
 * (its tool result tells the model what was wrong).
 */
import { canonicalJson } from '../engine/digest.js';
import type { ToolCallPart } from '../models/spec.js';
import { prepareToolCall } from '../tools/prepare-call.js';
import type { Tool } from '../tools/tool.js';

/** `call` with its arguments replaced by the canonical JSON of what was (or would be) executed. */
export function withExecutedArguments(tools: readonly Tool[], call: ToolCallPart): ToolCallPart {
  const preparation = prepareToolCall(tools, call);
  const value = preparation.status === 'ready' ? preparation.repairedArguments : preparation.parsedArguments;
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  return { ...call, arguments: isObject ? canonicalJson(value) : '{}' };
}
