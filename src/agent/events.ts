/**
 * Run events: what a run tells its observers as it goes (live progress in the CLI, JSON lines,
 * the HTTP API). Events are noun-then-verb, and every event carries its run id. Replayed steps
 * (committed before a crash and read back from the journal) are marked `replayed: true`.
 */
import type { RunStatus, RunTotals } from '../engine/engine.js';
import type { JsonValue, Usage } from '../models/spec.js';
import type { StopReason } from './stop-reason.js';

/** A run's totals as events report them (the engine's totals without the step count). */
export type RunTotalsSnapshot = Omit<RunTotals, 'steps'>;

export type RunEvent =
  | { type: 'run-start'; runId: string; agentName: string; model: string; resumed: boolean }
  | { type: 'step-start'; runId: string; index: number; kind: 'model' | 'tool'; name: string; replayed: boolean }
  | { type: 'text-delta'; runId: string; stepIndex: number; delta: string }
  | {
      type: 'tool-call-start';
      runId: string;
      stepIndex: number;
      toolCallId: string;
      toolName: string;
      /** Arguments after parsing and repair, or the raw text when they could not be parsed. */
      input: JsonValue;
      /** Repairs applied to the arguments, in words. */
      repairs: string[];
      replayed: boolean;
    }
  | {
      type: 'tool-call-end';
      runId: string;
      stepIndex: number;
      toolCallId: string;
      toolName: string;
      output: JsonValue;
      isError: boolean;
      durationMs: number;
      replayed: boolean;
    }
  | {
      type: 'usage';
      runId: string;
      stepIndex: number;
      model: string;
      usage: Usage;
      /** Cost of this call in USD; undefined when the price is unknown. */
      costUsd: number | undefined;
      totals: RunTotalsSnapshot;
    }
  | { type: 'warning'; runId: string; stepIndex: number | undefined; message: string }
  /** Progress of a plan run by a step (`plan_and_run`): each plan step's status and child run. */
  | {
      type: 'plan-update';
      runId: string;
      stepIndex: number;
      steps: Array<{ id: string; status: string; runId: string | undefined }>;
    }
  /** A routing model chose `model` for a call, and why. */
  | { type: 'routing'; runId: string; stepIndex: number; model: string; reason: string }
  | {
      type: 'approval-requested';
      runId: string;
      stepIndex: number;
      toolName: string;
      input: JsonValue;
      reason: string;
      /** When the default outcome applies (ms since epoch), if there is a deadline. */
      deadline: number | undefined;
    }
  | { type: 'step-end'; runId: string; index: number; kind: 'model' | 'tool'; durationMs: number; replayed: boolean }
  | {
      type: 'run-end';
      runId: string;
      status: Exclude<RunStatus, 'pending'> | 'interrupted';
      stopReason: StopReason;
      output: JsonValue | undefined;
      error: string | undefined;
      totals: RunTotalsSnapshot;
    };

export type RunEventType = RunEvent['type'];
