/**
 * The error `chart.render` throws. Its message is written for the model (what was wrong, what to
 * change in the spec or the call) and becomes the tool result; `reason` lets programs and tests
 * tell the cases apart without matching text.
 */
import { ToolError } from '../../tools/tool-error.js';

export type ChartToolErrorReason =
  /** The spec is not a Vega-Lite (or Vega) spec that compiles: unknown mark, bad field type, bad expression. */
  | 'invalid-spec'
  /** A data source is missing, unreadable, of an unsupported format, or not a workspace file. */
  | 'data-unavailable'
  /** A path is absolute, outside the workspace, or through a link that leads out. */
  | 'outside-workspace'
  /** Too many data rows, too many bytes, or a PNG with too many pixels. */
  | 'limit-exceeded'
  /** Rendering ran past its time limit, ran out of memory, or the run was stopped. */
  | 'interrupted'
  /** Vega failed while running the spec's dataflow or drawing it. */
  | 'render-failed';

export class ChartToolError extends ToolError<ChartToolErrorReason> {}
