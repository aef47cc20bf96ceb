import { ToolError } from '../../tools/tool-error.js';

/** An error reading a document, with a message that tells the model what to do about it. */
export class DocumentError extends ToolError<'unreadable'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('unreadable', message, options);
  }
}
