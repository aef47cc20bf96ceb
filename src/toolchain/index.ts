/**
 * `hataraku/tools`: the built-in tools (files, data, charts, documents, HTTP, code) and their
 * policies, errors and sandbox settings. Defining your own tools (`tool()`) is in the root.
 */
export {
  builtinToolPolicies,
  createBuiltinTools,
  protectedPathsFor,
  type ToolGroup,
  toolGroups,
} from './builtin-tools.js';
export { ChartToolError } from './charts/chart-tool-error.js';
export { type ChartToolsOptions, createChartTools } from './charts/chart-tools.js';
export {
  describeSandboxChoice,
  type SandboxChoice,
  type SandboxOptions,
  type SandboxWarning,
} from './code/choose-sandbox.js';
export { type CodeRunOutput, type CodeToolOptions, createCodeTool } from './code/code-tool.js';
export type { Sandbox, SandboxRunRequest, SandboxRunResult } from './code/sandbox.js';
export { DataToolError } from './data/data-tool-error.js';
export { createDataTools, type DataToolsOptions } from './data/data-tools.js';
export { createDocumentTools, type DocumentToolOptions } from './documents/doc-read-tool.js';
export { DocumentError } from './documents/document-error.js';
export { createProtectedPaths, defaultProtectedPatterns, type ProtectedPaths } from './files/protected-paths.js';
export {
  createFileTools,
  listFilesTool,
  readFileTool,
  workspaceFileTools,
  writeFileTool,
} from './files/workspace-files.js';
export type { HttpSecret, HttpToolOptions } from './http/http-tool-options.js';
export { createHttpTools } from './http/http-tools.js';
export { sendAllowPolicy, sendApprovalDefaultPolicy, sendApprovalPolicy } from './http/send-approval.js';
