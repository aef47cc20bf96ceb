/**
 * The server: the Runs API, the OpenAI-compatible gateway and MCP over HTTP (`hataraku serve`),
 * API keys, and the MCP server for stdio (`hataraku mcp serve`). Not exported from the package
 * root, so that importing the library never loads an HTTP framework.
 */
export { type AgentCatalog, createAgentCatalog, defaultAgentName } from './agent-catalog.js';
export { ApiError, type ApiErrorCode } from './api-error.js';
export { type EventLog, openEventLog, type SequencedEvent } from './event-log.js';
export { type KeyAdmin, openKeyAdmin } from './keys/key-admin.js';
export { type ApiKey, type KeyStore, keyAllows, type NewApiKey, openKeyStore } from './keys/key-store.js';
export { openPostgresKeyStore, type PostgresKeyStoreOptions } from './keys/postgres-key-store.js';
export { mountMcp } from './mcp/mcp-http.js';
export { agentToolName, createMcpServer, type McpServerOptions } from './mcp/mcp-server.js';
export { createNodeHttpFetch } from './node-http-fetch.js';
export { createRunService, type RunService } from './run-service.js';
export { createServer, type HatarakuServer, isLoopback, type ServerOptions, startServer } from './server.js';
