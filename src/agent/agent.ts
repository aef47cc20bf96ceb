/**
 * Agent definitions: a name, instructions, a model, tools and limits. An agent is plain data;
 * `run()` executes it.
 */
import type { Model, ModelRequest } from '../models/spec.js';
import type { Tool } from '../tools/tool.js';
import type { ToolPolicy } from './policy.js';

export interface AgentLimits {
  /** Most model calls in one run (default 20). */
  maxSteps?: number;
  /** Most tokens (input + output, summed over calls) in one run. */
  maxTokens?: number;
  /** Most USD spent in one run; checked before each call against an estimate and after it. */
  maxCostUsd?: number;
  /** Most wall-clock milliseconds for one run (per process session). */
  maxWallTimeMs?: number;
  /**
   * How often the same tool call (same tool, same arguments) may run. The next identical call
   * is refused with a message to the model; the one after that stops the run (default 2).
   */
  maxIdenticalToolCalls?: number;
}

/** A zod schema or a JSON Schema describing a structured final output object. */
export type OutputSchema = { readonly _zod: unknown } | { [key: string]: unknown };

export interface AgentOptions {
  name: string;
  /** The system prompt. */
  instructions: string;
  /** A model, or a model name such as `openai:gpt-4o-mini` resolved from config. */
  model: Model | string;
  tools?: Tool<never, unknown>[] | Tool[];
  limits?: AgentLimits;
  /** When set, the final answer must be a JSON object valid against this schema. */
  output?: OutputSchema;
  temperature?: number;
  /** Most output tokens per model call (default 4096). */
  maxOutputTokens?: number;
  toolChoice?: ModelRequest['toolChoice'];
  /** Most tool calls of one model turn running at once (default 4). */
  maxToolConcurrency?: number;
  /** Allow, deny, or ask before tool calls; the first matching policy decides. */
  policies?: ToolPolicy[];
}

export interface Agent {
  readonly name: string;
  readonly instructions: string;
  readonly model: Model | string;
  readonly tools: readonly Tool[];
  readonly limits: Required<Pick<AgentLimits, 'maxSteps' | 'maxIdenticalToolCalls'>> & AgentLimits;
  readonly output: OutputSchema | undefined;
  readonly temperature: number | undefined;
  readonly maxOutputTokens: number;
  readonly toolChoice: ModelRequest['toolChoice'] | undefined;
  readonly maxToolConcurrency: number;
  readonly policies: readonly ToolPolicy[];
}

/** Define an agent. Throws a TypeError or RangeError naming the option that is wrong. */
export function agent(options: AgentOptions): Agent {
  if (typeof options.name !== 'string' || options.name.trim() === '') {
    throw new TypeError('agent(): `name` must be a non-empty string');
  }
  if (typeof options.instructions !== 'string') throw new TypeError('agent(): `instructions` must be a string');
  if (typeof options.model !== 'string' && (typeof options.model !== 'object' || options.model === null)) {
    throw new TypeError('agent(): `model` must be a model name such as "openai:gpt-4o-mini" or a Model object');
  }
  const tools = (options.tools ?? []) as Tool[];
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.name)) throw new TypeError(`agent(): two tools are named "${tool.name}"`);
    seen.add(tool.name);
  }
  const limits = { maxSteps: 20, maxIdenticalToolCalls: 2, ...options.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (value !== undefined && (typeof value !== 'number' || !(value > 0))) {
      throw new RangeError(`agent(): limits.${key} must be a positive number (got ${String(value)})`);
    }
  }
  const maxToolConcurrency = options.maxToolConcurrency ?? 4;
  if (!Number.isInteger(maxToolConcurrency) || maxToolConcurrency < 1) {
    throw new RangeError('agent(): `maxToolConcurrency` must be a positive integer');
  }
  return {
    name: options.name,
    instructions: options.instructions,
    model: options.model,
    tools,
    limits,
    output: options.output,
    temperature: options.temperature,
    maxOutputTokens: options.maxOutputTokens ?? 4096,
    toolChoice: options.toolChoice,
    maxToolConcurrency,
    policies: options.policies ?? [],
  };
}
