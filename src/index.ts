/**
 * Hataraku's public library entry: what a user writes to define and run agents.
 *
 * ```ts
 * import { agent, tool, run } from 'hataraku';
 * ```
 *
 * Everything else is under a subpath: `hataraku/tools` (the built-in tools), `hataraku/models`,
 * `hataraku/routing`, `hataraku/context`, `hataraku/cache`, `hataraku/cost`, `hataraku/journal`,
 * `hataraku/connectors`, `hataraku/decomposition`, `hataraku/evals`, `hataraku/config`, `hataraku/testing`
 * (the scripted model, fake servers) and `hataraku/tool-framework` (preparing, repairing and
 * running tool calls).
 * `src/public-api.test.ts` keeps this list from growing by accident.
 */
export { type Agent, type AgentLimits, type AgentOptions, agent, type OutputSchema } from './agent/agent.js';
export { type Attachment, loadAttachment } from './agent/attachments.js';
export { type ConcurrencyGate, createConcurrencyGate } from './agent/concurrency-gate.js';
export type { RunEvent, RunEventType, RunTotalsSnapshot } from './agent/events.js';
export type { PolicyAction, PolicyCondition, ToolDefaultPolicy, ToolPolicy } from './agent/policy.js';
export {
  type BudgetRule,
  type RunHandle,
  type RunOptions,
  type RunResult,
  resume,
  run,
  type StopReason,
  submit,
} from './agent/run.js';
export type { HatarakuConfig } from './config/load-config.js';
export {
  type ErrorCode,
  HatarakuError,
  isHatarakuError,
  JournalError,
  LeaseLostError,
  ModelCallError,
  NonDeterminismError,
  UserError,
} from './errors.js';
export {
  createHataraku,
  type Hataraku,
  type HatarakuOptions,
  type RecoverOptions,
  type RecoveryReport,
} from './hataraku.js';
export type * from './models/spec.js';
export { type JsonSchemaToolOptions, tool, type ZodToolOptions } from './tools/define-tool.js';
export type { ArtifactInput, RunResources, Tool, ToolContext, ToolEffect } from './tools/tool.js';
export { ToolError } from './tools/tool-error.js';
