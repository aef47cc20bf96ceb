/**
 * Connectors: MCP servers and OpenAPI-described APIs whose operations become tools, with the
 * same validation, policies, approvals and journal as built-in tools.
 */
export { ConnectorError, type ConnectorErrorCode } from './connector-error.js';
export type { ConnectorTool, SkippedOperation } from './connector-tool.js';
export {
  type ConnectorReport,
  type Connectors,
  type ConnectorsOptions,
  combineTools,
  type LoadedConnectors,
  openConnectors,
} from './connectors.js';
export {
  createMcpConnection,
  type McpConnection,
  type McpConnectionOptions,
  type McpConnectionStatus,
} from './mcp/mcp-connection.js';
export { createMcpTools, effectOfAnnotations, isDestructive, type McpToolSet } from './mcp/mcp-tools.js';
export { buildRequest, type PlannedRequest } from './openapi/build-request.js';
export {
  type LoadedDocument,
  loadOpenApiDocument,
  type OpenApiDocument,
  parseOpenApiText,
} from './openapi/load-document.js';
export {
  createOpenApiTools,
  effectOfMethod,
  type OpenApiToolOptions,
  type OpenApiToolSet,
} from './openapi/openapi-tools.js';
export { type OperationCatalog, type OperationPlan, planOperations } from './openapi/operations.js';
