/**
 * The state of a run in progress (`RunLoop`) and what each phase of the loop says comes next
 * (`NextStep`). The loop (`run-loop.ts`) switches on it; the phases (`model-turn.ts`, the tool
 * turn) return it.
 */
import type { ConversationDigest } from '../engine/digest.js';
import type { ApprovalRecord, BudgetScope, Engine, RunRecord } from '../engine/engine.js';
import type {
  JsonValue,
  Model,
  ModelMessage,
  ModelRequest,
  ModelToolDefinition,
  ToolCallPart,
} from '../models/spec.js';
import type { DisposableRunResources } from '../tools/run-resources.js';
import type { Tool } from '../tools/tool.js';
import type { Agent } from './agent.js';
import type { StepRecorder } from './durable-step.js';
import type { RunEvent } from './events.js';
import type { planCallCosts } from './run-costs.js';
import type { RunEndContext } from './run-end.js';
import type { RunLimits } from './run-limits.js';
import type { RunOptions } from './run-types.js';
import type { EndStopReason } from './stop-reason.js';
import type { ToolTurnContext } from './tool-step.js';

/** What a phase of the loop says comes next. */
export type NextStep =
  | { kind: 'call-model' }
  | { kind: 'run-tools'; calls: ToolCallPart[] }
  | { kind: 'finish'; status: 'completed' | 'stopped'; stopReason: EndStopReason; output: JsonValue | undefined }
  | { kind: 'wait-for-approval'; approvals: ApprovalRecord[] }
  | { kind: 'interrupted' };

/** A run in progress: what does not change during the run, and the little that does. */
export interface RunLoop {
  agent: Agent;
  record: RunRecord;
  engine: Engine;
  options: RunOptions;
  runId: string;
  publish: (event: RunEvent) => void;
  model: Model;
  /** The model as the run names it (the agent's model name, or `provider:model`). */
  modelLabel: string;
  /** `provider:model`, for the tokenizer. */
  tokenizerModel: string;
  recorder: StepRecorder;
  signal: AbortSignal;
  wallTimeUp: () => boolean;
  baseRequest: Omit<ModelRequest, 'messages'>;
  /** Checks a structured final answer, when the agent has an output schema. */
  outputValidator: Tool | undefined;
  modelTools: ModelToolDefinition[];
  messages: ModelMessage[];
  digest: ConversationDigest;
  append: (...messages: ModelMessage[]) => void;
  limits: RunLimits;
  costs: ReturnType<typeof planCallCosts> & { treeScope: BudgetScope[] };
  toolTurn: ToolTurnContext;
  /** Resources tools opened for the run (a browser, a sandbox), disposed when it ends. */
  runResources: DisposableRunResources;
  ending: RunEndContext;
  /** Index of the next step. */
  stepIndex: number;
  modelCalls: number;
  /** The last non-empty text the model gave: the output of a run a limit stops. */
  lastText: string;
  /** After a turn cut off by the token limit, the next call gets twice the room, once. */
  roomBoost: boolean;
}

/** A run stopped by a limit: its output is the last text the model gave. */
export function stopped(loop: RunLoop, stopReason: EndStopReason): Extract<NextStep, { kind: 'finish' }> {
  return { kind: 'finish', status: 'stopped', stopReason, output: loop.lastText || undefined };
}
