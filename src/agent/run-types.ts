/** What `run()` and `resume()` take and give back. */
import type { ContextStrategy } from '../context/context-strategy.js';
import type { PriceSource } from '../cost/price-source.js';
import type { ApprovalRecord, Engine } from '../engine/engine.js';
import type { FaultPoints } from '../engine/fault-points.js';
import type { JsonValue, Model } from '../models/spec.js';
import type { TelemetryOptions } from '../telemetry/run-telemetry.js';
import type { Agent } from './agent.js';
import type { Attachment } from './attachments.js';
import type { ConcurrencyGate } from './concurrency-gate.js';
import type { RunEvent, RunTotalsSnapshot } from './events.js';
import type { BudgetRule } from './run-costs.js';
import type { StopReason } from './stop-reason.js';

export interface RunOptions {
  /** Engine to record the run in. Default: the SQLite engine at `journalPath`. */
  engine?: Engine;
  /** Default `.hataraku/hataraku.db` under the current directory; used when `engine` is not given. */
  journalPath?: string;
  /**
   * When a tool call needs approval: `return` (default) ends this call with status `waiting`,
   * and the run continues when it is resumed after the decision; `poll` keeps this process
   * waiting, checking for the decision every `approvalPollMs` (default 500).
   */
  approvalWait?: 'return' | 'poll';
  approvalPollMs?: number;
  /** Fault points armed by the fault-injection suite. */
  faults?: FaultPoints;
  /**
   * Decides what of the history the model sees at each call: offload large tool results, mask
   * used ones, summarize old turns (`src/context`). Default: all of it. Must be deterministic.
   */
  context?: ContextStrategy;
  /** Most prompt tokens one call may send, counted with a real tokenizer; past it the run stops. */
  maxInputTokens?: number;
  /** Limits how many runs execute at once; the run waits for a slot before it starts. */
  gate?: ConcurrencyGate;
  /** Who the run is for (an API key, a customer): cost roll-ups and tenant budgets use it. */
  tenant?: string;
  /** The run that started this one, for cost roll-ups. */
  parentRunId?: string;
  /**
   * Hard spend limits shared across runs (per run, agent, tenant or everything; per day or in
   * total). Each call reserves its estimated cost against all of them first and does not run
   * when one would be passed; the run then stops with `budget-exceeded`.
   */
  budgets?: BudgetRule[];
  /** Id of the new run (default: a random one). */
  runId?: string;
  /** Workspace directory handed to tools (default: a new directory under the system's temp folder). */
  workspace?: string;
  /** Where model prices come from; without one, every non-scripted call's cost is unknown. */
  prices?: PriceSource;
  /** Turns a model name (agent.model as a string) into a Model. Required for string model names. */
  resolveModel?: (name: string) => Model;
  /** Aborting leaves the run pending, to be resumed later. */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Most characters of one tool result kept (default 50,000; 1,000,000 with a context strategy). */
  maxToolResultCharacters?: number;
  /**
   * Images and PDFs given to the model with the task (see `loadAttachment`). They are kept in the
   * journal as base64 with the run, so a resumed run sends the same bytes.
   */
  attachments?: Attachment[];
  /**
   * OpenTelemetry traces and metrics for the run, its model calls and tool calls (GenAI semantic
   * conventions). Off unless given; `{}` reports to the globally registered providers.
   */
  telemetry?: TelemetryOptions;
}

export interface RunResult {
  runId: string;
  /** `waiting`: paused until a person decides on `approvals`; resume the run after that. */
  status: 'completed' | 'stopped' | 'waiting';
  /** Why the run ended (see `StopReason` in `stop-reason.ts`). */
  stopReason: StopReason;
  /** The final output: text, or the validated object when the agent has an output schema; the last text when stopped. */
  output: JsonValue | undefined;
  totals: RunTotalsSnapshot;
  /** The approvals the run waits for, when `status` is `waiting`. */
  approvals?: ApprovalRecord[];
}

/**
 * A run in progress: await it (or `.result`) for the result, iterate `.events` for live events.
 * It rejects with a `HatarakuError` when the run fails (the failure is recorded in the journal).
 */
export interface RunHandle extends PromiseLike<RunResult> {
  readonly runId: string;
  readonly events: AsyncIterable<RunEvent>;
  readonly result: Promise<RunResult>;
}

/** Starts or resumes a run: `run` and `resume`, handed to parts that start child runs. */
export interface RunStarters {
  start: (agent: Agent, input: string, options?: RunOptions) => RunHandle;
  resume: (agent: Agent, runId: string, options?: RunOptions) => RunHandle;
}
