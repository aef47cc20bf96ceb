/**
 * The error the data tools throw. Its message is written for the model (what was wrong, what
 * to do instead) and becomes the tool result; `reason` lets programs and tests tell the cases
 * apart without matching text.
 */
import { ToolError } from '../../tools/tool-error.js';

export type DataToolErrorReason =
  /** The SQL would write (COPY, CREATE, INSERT, ATTACH, INSTALL, SET…) and the tools are read-only. */
  | 'read-only'
  /** A path is absolute, outside the workspace, or through a link that leads out. */
  | 'outside-workspace'
  /** A named file or table does not exist. */
  | 'not-found'
  /** The file type cannot be read here (XLSX without the `excel` extension, an unknown extension). */
  | 'unsupported-format'
  /** DuckDB rejected the SQL: syntax, unknown column, type conversion, CSV parsing. */
  | 'query-failed'
  /** The query ran past its time limit or the run was stopped. */
  | 'interrupted'
  /** The call wrote more than its write limit (`maxWriteBytes`) and was stopped; nothing it wrote was kept. */
  | 'write-limit';

export class DataToolError extends ToolError<DataToolErrorReason> {}
