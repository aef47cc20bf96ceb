/**
 * The tool contract. A tool has a name, a description written for models, an input schema
 * (zod or JSON Schema, normalised to JSON Schema for the model), an effect declaration, and an
 * `execute` function. Validation and repair of arguments happen before `execute` is called
 * (see `prepare-call.ts`), so `execute` receives typed, valid input.
 */
import type { ToolDefaultPolicy } from '../agent/policy.js';
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
  /** Resources shared by the tool calls of one run (a warm sandbox, a connection), disposed when the run ends. */
  runResources: RunResources;
  /** Record a file the tool produced (a chart, a report) as an artifact of the run. */
  recordArtifact(artifact: ArtifactInput): void;
  /**
   * Starts child runs of this run (delegated tasks, see `src/decomposition`); present when the
   * tool runs inside `run()`.
   */
  childRuns?: ChildRunsHandle;
}

/**
 * The run's starter of child runs, as the tool framework sees it: only its parent's id. Tools that
 * delegate get the full interface with `childRunsOf` (`src/agent/child-runs.ts`), so the framework
 * does not depend on the agent loop above it.
 */
export interface ChildRunsHandle {
  readonly parentRunId: string;
}

/**
 * A per-run store: `get` returns the value kept under `key`, creating it on first use. Values
 * with a `dispose` function are disposed, in reverse order of creation, when the run's process
 * session ends (finished, stopped, failed or interrupted).
 */
export interface RunResources {
  get<Value>(
    key: string,
    create: () => Value | Promise<Value>,
    dispose?: (value: Value) => void | Promise<void>,
  ): Promise<Value>;
}

export interface ArtifactInput {
  /** Path relative to the workspace. */
  path: string;
  /** IANA media type, e.g. `image/png`. */
  mediaType: string;
  description?: string;
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
  /**
   * Run alone: while a call of this tool runs, no other tool call of the run does (the scheduler
   * waits for the calls already running, and starts the next ones after). For tools whose work
   * must not interleave with others', e.g. `code.run`, whose programs could otherwise flip links
   * under a file tool's feet.
   */
  readonly exclusive?: boolean;
  /** Ask providers that can to hold the model's arguments to the schema while generating. */
  readonly strict?: boolean;
  /**
   * Policies the tool brings for its own calls, applied by the agent when none of the caller's
   * policies matches a call (a caller policy, `*` included, always wins). E.g. `http.request`
   * asks a person before sending data to a host off its `sendAllowHosts`.
   */
  readonly defaultPolicies?: readonly ToolDefaultPolicy[];
  /**
   * Problems found in the definition and fixed there, e.g. a schema `default` that fails its own
   * schema and was dropped. Empty or absent when there were none.
   */
  readonly warnings?: readonly string[];
  /** Check (and, for zod schemas, transform) arguments already parsed from JSON. */
  validate(args: unknown): ValidationResult<Input>;
  execute(input: Input, context: ToolContext): Promise<Output> | Output;
}
