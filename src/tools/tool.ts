/**
 * The tool contract. A tool has a name, a description written for models, an input schema
 * (zod or JSON Schema, normalised to JSON Schema for the model), an effect declaration, and an
 * `execute` function. Validation and repair of arguments happen before `execute` is called
 * (see `prepare-call.ts`), so `execute` receives typed, valid input.
 */
import type { JsonSchema } from '../models/spec.js';

/**
 * What running the tool does to the world:
 * - `none`: reads only; safe to run again.
 * - `idempotent`: writes, but running it twice with the same input has the effect of once.
 * - `side-effect`: writes; receives an idempotency key (`runId:stepIndex`) to deduplicate.
 */
export type ToolEffect = 'none' | 'idempotent' | 'side-effect';

/** What a tool's `execute` receives besides its input. */
export interface ToolContext {
  runId: string;
  /** Journal step index of this call. */
  stepIndex: number;
  /** `runId:stepIndex`; stable across a crash and resume of the same step. */
  idempotencyKey: string;
  toolCallId: string;
  abortSignal: AbortSignal;
  /** Workspace directory of the run, when it has one. */
  workspace: string | undefined;
}

/** One problem found in a tool call's arguments. */
export interface ToolInputIssue {
  /** Where in the arguments, e.g. `['items', 0, 'qty']`; empty for the whole object. */
  path: Array<string | number>;
  message: string;
}

export type ValidationResult<Input> = { success: true; data: Input } | { success: false; issues: ToolInputIssue[] };

export interface Tool<Input = unknown, Output = unknown> {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments object, as sent to the model. */
  readonly inputSchema: JsonSchema;
  readonly effect: ToolEffect;
  /** Check (and, for zod schemas, transform) arguments already parsed from JSON. */
  validate(args: unknown): ValidationResult<Input>;
  execute(input: Input, context: ToolContext): Promise<Output> | Output;
}
