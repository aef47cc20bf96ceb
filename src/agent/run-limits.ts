/**
 * A run's limits, checked in one place: steps, tokens, cost and wall time, and the prompt size
 * the caller allows. The loop asks before each model call (`beforeCall`, `forRequest`) and after
 * it (`afterCall`); each check returns the stop reason of the limit that was reached, or nothing.
 * The repeat limit on identical tool calls is the tool turn's (`tool-step.ts`), and shared
 * budgets are reserved per call (`model-turn.ts`): both stop the run with a reason from here too.
 */
import type { Engine, RunTotals } from '../engine/engine.js';
import type { AgentLimits } from './agent.js';
import { treeTotalsOf } from './child-runs.js';
import type { LimitStopReason } from './stop-reason.js';

/** A limit that was reached, with what to tell the user when there is more to say. */
export interface LimitReached {
  reason: LimitStopReason;
  warning?: string;
}

export interface RunLimits {
  /** Cheap checks before anything is prepared: wall time and the number of model calls. */
  beforeCall(state: { modelCalls: number; wallTimeUp: boolean }): LimitReached | undefined;
  /** Checks against the request about to be sent, sized `estimatedInput` tokens. */
  forRequest(state: {
    totals: Pick<RunTotals, 'inputTokens' | 'outputTokens' | 'costUsd'>;
    estimatedInput: number;
    /** A committed step is replayed, not sent: its size no longer matters. */
    committed: boolean;
  }): Promise<LimitReached | undefined>;
  /** Checks after a call, against what it actually used. */
  afterCall(totals: Pick<RunTotals, 'inputTokens' | 'outputTokens' | 'costUsd'>): LimitReached | undefined;
  /** Whether the loop must count the request's tokens for these limits. */
  readonly needsEstimate: boolean;
}

export function createRunLimits(settings: {
  limits: AgentLimits & { maxSteps: number };
  /** Most prompt tokens one call may send (`RunOptions.maxInputTokens`). */
  maxInputTokens: number | undefined;
  /** Whether shared budgets are set (they need the estimate too). */
  hasBudgets: boolean;
  /** The estimated cost of a call with `inputTokens` prompt tokens; undefined when unpriced. */
  estimateCallCost: (inputTokens: number) => number | undefined;
  engine: Engine;
  runId: string;
}): RunLimits {
  const { limits, maxInputTokens } = settings;
  const needsEstimate = limits.maxTokens !== undefined || limits.maxCostUsd !== undefined || settings.hasBudgets;
  return {
    needsEstimate: needsEstimate || maxInputTokens !== undefined,
    beforeCall({ modelCalls, wallTimeUp }) {
      if (wallTimeUp) return { reason: 'max-wall-time' };
      if (modelCalls >= limits.maxSteps) return { reason: 'max-steps' };
      return undefined;
    },
    async forRequest({ totals, estimatedInput, committed }) {
      if (maxInputTokens !== undefined && estimatedInput > maxInputTokens && !committed) {
        return {
          reason: 'context-too-large',
          warning: `the next request has ${estimatedInput} input tokens, over the limit of ${maxInputTokens}; use a context strategy (offload, mask, summarize) or raise maxInputTokens.`,
        };
      }
      if (
        limits.maxTokens !== undefined &&
        totals.inputTokens +
          totals.outputTokens +
          (await childTokens(settings.engine, settings.runId)) +
          estimatedInput >
          limits.maxTokens
      ) {
        return { reason: 'max-tokens' };
      }
      if (limits.maxCostUsd !== undefined) {
        const estimate = settings.estimateCallCost(estimatedInput);
        if (estimate !== undefined && totals.costUsd + estimate > limits.maxCostUsd)
          return { reason: 'budget-exceeded' };
      }
      return undefined;
    },
    afterCall(totals) {
      if (limits.maxCostUsd !== undefined && totals.costUsd > limits.maxCostUsd) return { reason: 'budget-exceeded' };
      if (limits.maxTokens !== undefined && totals.inputTokens + totals.outputTokens > limits.maxTokens) {
        return { reason: 'max-tokens' };
      }
      return undefined;
    },
  };
}

/** Tokens used by a run's child runs and theirs (0 without children: one query). */
async function childTokens(engine: Engine, runId: string): Promise<number> {
  let tokens = 0;
  for (const child of await engine.listChildRuns(runId)) tokens += (await treeTotalsOf(engine, child.id)).tokens;
  return tokens;
}
