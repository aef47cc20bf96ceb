/**
 * Hataraku's public library entry.
 *
 * ```ts
 * import { agent, tool, run } from 'hataraku';
 * ```
 */
export { type Agent, type AgentLimits, type AgentOptions, agent, type OutputSchema } from './agent/agent.js';
export { type Attachment, loadAttachment } from './agent/attachments.js';
export { type ChildRunOutcome, type ChildRuns, ChildRunWaitingError, childRunId } from './agent/child-runs.js';
export { type ConcurrencyGate, createConcurrencyGate } from './agent/concurrency-gate.js';
export type { RunEvent, RunEventType, RunTotalsSnapshot } from './agent/events.js';
export { evaluatePolicies, type PolicyAction, type PolicyCondition, type ToolPolicy } from './agent/policy.js';
export { type BudgetRule, type RunHandle, type RunOptions, type RunResult, resume, run } from './agent/run.js';
export * from './cache/index.js';
export type {
  ConnectorsConfig,
  McpServerSettings,
  OpenApiAuthSettings,
  OpenApiSettings,
} from './config/connectors-settings.js';
export { type HatarakuConfig, loadConfig, type ToolsConfig } from './config/load-config.js';
export { parseModelName } from './config/model-name.js';
export * from './connectors/index.js';
export * from './context/index.js';
export { costOfUsage, selfHostedPrice } from './cost/cost.js';
export { createGenaiPricesSource } from './cost/genai-prices-source.js';
export { createOverridePriceSource } from './cost/override-source.js';
export { chainPriceSources, type ModelPrice, type PriceSource } from './cost/price-source.js';
export { type DelegateToolOptions, delegateTool } from './decomposition/delegate-tool.js';
export { type PlanAndRunToolOptions, planAndRunTool } from './decomposition/plan-and-run-tool.js';
export { loadRunTree, type RunTreeNode } from './decomposition/run-tree.js';
export type { WorkspaceMode } from './decomposition/workspace-view.js';
export type {
  ApprovalRecord,
  ArtifactRecord,
  AuditEntry,
  Engine,
  RunRecord,
  RunStatus,
  StepRecord,
} from './engine/engine.js';
export { armFaultPoints, type FaultPointName, type FaultPoints, faultPointNames } from './engine/fault-points.js';
export { openPostgresEngine, type PostgresEngineOptions } from './engine/postgres/postgres-engine.js';
export { openSqliteEngine, type SqliteEngineOptions } from './engine/sqlite/sqlite-engine.js';
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
export * from './evals/index.js';
export { defaultExampleName, type ExampleDefinition, examples } from './examples/index.js';
export {
  createHataraku,
  type Hataraku,
  type HatarakuOptions,
  type RecoverOptions,
  type RecoveryReport,
} from './hataraku.js';
export { createModel } from './model-registry/model-registry.js';
export { createAnthropicModel } from './models/anthropic/anthropic-model.js';
export { createLocalModel, type LocalModelOptions } from './models/local/local-model.js';
export { type TinyLlamaOptions, writeTinyLlama } from './models/local/tiny-model/tiny-llama.js';
export { createOpenAIModel } from './models/openai/openai-model.js';
export { createScriptedModel, type Script } from './models/scripted/scripted-model.js';
export type * from './models/spec.js';
export * from './routing/index.js';
export {
  builtinToolPolicies,
  createBuiltinTools,
  protectedPathsFor,
  type ToolGroup,
  toolGroups,
} from './toolchain/builtin-tools.js';
export { ChartToolError } from './toolchain/charts/chart-tool-error.js';
export { type ChartToolsOptions, createChartTools } from './toolchain/charts/chart-tools.js';
export {
  describeSandboxChoice,
  type SandboxChoice,
  type SandboxOptions,
  type SandboxWarning,
} from './toolchain/code/choose-sandbox.js';
export { type CodeRunOutput, type CodeToolOptions, createCodeTool } from './toolchain/code/code-tool.js';
export type { Sandbox, SandboxRunRequest, SandboxRunResult } from './toolchain/code/sandbox.js';
export { DataToolError } from './toolchain/data/data-tool-error.js';
export { createDataTools, type DataToolsOptions } from './toolchain/data/data-tools.js';
export { createDocumentTools, type DocumentToolOptions } from './toolchain/documents/doc-read-tool.js';
export {
  createProtectedPaths,
  defaultProtectedPatterns,
  type ProtectedPaths,
} from './toolchain/files/protected-paths.js';
export {
  createFileTools,
  listFilesTool,
  readFileTool,
  workspaceFileTools,
  writeFileTool,
} from './toolchain/files/workspace-files.js';
export type { HttpSecret, HttpToolOptions } from './toolchain/http/http-tool-options.js';
export { createHttpTools } from './toolchain/http/http-tools.js';
export { sendApprovalPolicy } from './toolchain/http/send-approval.js';
export * from './tools/index.js';
