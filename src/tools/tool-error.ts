/**
 * The one error type tools throw for a call that cannot be done: its message is written for the
 * model (what was wrong, what to do instead) and becomes the tool result; `reason` lets programs
 * and tests tell the cases apart without matching text. Tool families narrow `reason` to their
 * own list (`DataToolError`, `ChartToolError`, `DocumentError`) and stay catchable as `ToolError`.
 */
export class ToolError<Reason extends string = string> extends Error {
  readonly reason: Reason;

  constructor(reason: Reason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.reason = reason;
  }
}
