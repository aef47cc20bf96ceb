/** What a check of a task's outcome receives and returns. */
import type { JsonValue, Model } from '../../models/spec.js';

/** The outcome a check looks at. */
export interface CheckContext {
  /** The run's final output (text, or the validated object). */
  output: JsonValue | undefined;
  /** The run's workspace folder. */
  workspace: string;
  /** The model that grades `modelGraded` checks; without one they are skipped. */
  grader?: Model | undefined;
  signal?: AbortSignal | undefined;
}

/** One check's verdict. */
export interface CheckResult {
  name: string;
  kind: 'exact' | 'regex' | 'number' | 'json-schema' | 'file' | 'sql' | 'js' | 'model-graded';
  passed: boolean;
  /** Why, in words. */
  detail: string;
  /** Decided by a model, not by a deterministic rule; reported apart. */
  modelGraded: boolean;
  /** Not decided (no grader model); a skipped check does not fail the task. */
  skipped: boolean;
}

/** The output as text: a string as it is, anything else as JSON. */
export function outputText(output: JsonValue | undefined): string {
  if (output === undefined) return '';
  return typeof output === 'string' ? output : JSON.stringify(output);
}
