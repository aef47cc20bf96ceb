/**
 * `ConnectorError`: an MCP server or an OpenAPI service (or its document) failed. The message
 * says which connector, what happened and what to do; inside a run it becomes the tool result
 * the model reads, in the CLI one line on stderr.
 */
import { type ErrorCode, HatarakuError } from '../errors.js';

export type ConnectorErrorCode = Extract<ErrorCode, `connector_${string}`>;

export class ConnectorError extends HatarakuError {
  constructor(code: ConnectorErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
