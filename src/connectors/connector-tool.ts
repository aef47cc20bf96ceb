/** What connectors hand to the agent and to `hataraku tools list`: a tool and where it came from. */
import type { Tool } from '../tools/tool.js';

export interface ConnectorTool {
  tool: Tool;
  /** `mcp:<server>` or `openapi:<api>`. */
  source: string;
  /** The connector's own name for the operation (MCP tool name, OpenAPI operationId or `METHOD path`). */
  operation: string;
  /** Whether calls need a person's approval by default (destructive MCP tools, OpenAPI writes). */
  destructive: boolean;
}

/** An operation a connector could not turn into a tool, and why. */
export interface SkippedOperation {
  operation: string;
  reason: string;
}
