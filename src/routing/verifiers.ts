/**
 * Verifiers for the cascade route: checks of a cheap model's answer that decide whether it is
 * good enough or the call escalates to a stronger model.
 *
 * A verifier is a plain function of the response and the request it answered; it returns
 * `{ accept, reason }`, and the reason becomes the routing event's reason. The built-in ones
 * check what the agent loop would otherwise find out too late: a tool call the loop cannot run,
 * an empty answer, an answer in the wrong shape. Each judges only what it is about: the
 * final-answer checks accept a turn of tool calls, and the tool-call check accepts a final answer
 * where no tool call was required.
 */
import type { JsonSchema, ModelRequest, ModelResponse, ModelToolDefinition, ToolCallPart } from '../models/spec.js';
import { tool } from '../tools/define-tool.js';
import { formatIssuePath, prepareToolCall } from '../tools/prepare-call.js';
import { parseJsonText } from '../tools/repair/json-text.js';
import { extractTextToolCalls } from '../tools/text-tool-calls.js';
import type { Tool } from '../tools/tool.js';

/** A verifier's judgement. */
export interface Verdict {
  accept: boolean;
  /** Why, in words; recorded as the reason of the routing decision. */
  reason: string;
}

/** Judges a model's response to a request. May be async (e.g. to ask another model). */
export type Verifier = (response: ModelResponse, request: ModelRequest) => Verdict | Promise<Verdict>;

/** Options of `validToolCall`. */
export interface ValidToolCallOptions {
  /** The tools calls are checked against; default the request's tools. */
  tools?: readonly ModelToolDefinition[];
  /**
   * Accept a call the loop can repair (a near-miss tool name, JSON with a trailing comma, a
   * string where a number belongs), as the loop would run it; default true. False: only calls
   * that are exactly right.
   */
  allowRepairs?: boolean;
}

/**
 * `valid-tool-call`: every tool call names a known tool and its arguments parse and validate
 * against the tool's input schema, as the agent loop checks them (`prepareToolCall`). Calls
 * written in the answer text count when the response has no native ones, as the loop reads
 * those too. Rejects an answer without a tool call when the request's `toolChoice` requires one.
 */
export function validToolCall(options: ValidToolCallOptions = {}): Verifier {
  const allowRepairs = options.allowRepairs ?? true;
  const compiled = new WeakMap<ModelToolDefinition, Tool>();
  const toolFor = (definition: ModelToolDefinition): Tool => {
    let checked = compiled.get(definition);
    if (checked === undefined) {
      checked = tool({
        name: definition.name,
        // A description is required to define a tool, not to check a call against one.
        description: definition.description.trim() === '' ? definition.name : definition.description,
        input: definition.inputSchema,
        execute: () => undefined,
      });
      compiled.set(definition, checked);
    }
    return checked;
  };

  return function verifyToolCalls(response, request) {
    const definitions = options.tools ?? request.tools ?? [];
    let calls: Array<Pick<ToolCallPart, 'name' | 'arguments'>> = response.toolCalls;
    if (calls.length === 0 && definitions.length > 0) {
      calls = extractTextToolCalls(
        response.text,
        definitions.map((definition) => definition.name),
      ).calls;
    }
    const choice = request.toolChoice;
    if (calls.length === 0) {
      if (choice === 'required' || (typeof choice === 'object' && choice.type === 'tool')) {
        return reject('valid-tool-call: the request requires a tool call and the answer has none');
      }
      return { accept: true, reason: 'valid-tool-call: no tool calls to check' };
    }
    const tools = definitions.map(toolFor);
    const repairs: string[] = [];
    for (const call of calls) {
      if (typeof choice === 'object' && choice.type === 'tool' && call.name !== choice.name) {
        return reject(`valid-tool-call: the request requires tool "${choice.name}", the answer calls "${call.name}"`);
      }
      const prepared = prepareToolCall(tools, call);
      if (prepared.status === 'invalid') {
        const issues = prepared.issues.map((issue) => `${formatIssuePath(issue.path)} ${issue.message}`);
        return reject(`valid-tool-call: call to "${prepared.toolName}" is invalid: ${issues.join('; ')}`);
      }
      if (prepared.repairs.length > 0) {
        if (!allowRepairs) {
          return reject(
            `valid-tool-call: call to "${prepared.tool.name}" needed repairs: ${prepared.repairs.join('; ')}`,
          );
        }
        repairs.push(...prepared.repairs);
      }
    }
    const repaired = repairs.length > 0 ? ` after repairs (${repairs.join('; ')})` : '';
    return { accept: true, reason: `valid-tool-call: ${calls.length} valid tool call(s)${repaired}` };
  };
}

/** `non-empty`: the answer has text that is not just whitespace, or at least one tool call. */
export function nonEmptyAnswer(): Verifier {
  return function verifyNonEmpty(response) {
    if (response.toolCalls.length > 0) return { accept: true, reason: 'non-empty: the answer calls a tool' };
    if (response.text.trim() !== '') return { accept: true, reason: 'non-empty: the answer has text' };
    return reject(`non-empty: the answer is empty (finish reason ${response.finishReason})`);
  };
}

/**
 * `matches-format`: a final answer's text (trimmed) matches `pattern`. A turn with tool calls is
 * not a final answer and is accepted. The pattern's `g` and `y` flags are ignored, so that
 * checking one answer never depends on the one before.
 */
export function matchesFormat(pattern: RegExp): Verifier {
  if (!(pattern instanceof RegExp)) throw new TypeError('matchesFormat: pattern must be a RegExp.');
  const stateless = new RegExp(pattern.source, pattern.flags.replaceAll('g', '').replaceAll('y', ''));
  return function verifyFormat(response) {
    if (response.toolCalls.length > 0) return { accept: true, reason: 'matches-format: not a final answer' };
    if (stateless.test(response.text.trim())) return { accept: true, reason: `matches-format: matches ${stateless}` };
    return reject(`matches-format: the answer does not match ${stateless}`);
  };
}

/**
 * `valid-json-output`: a final answer is JSON valid against `schema`, or, without one, against
 * the request's `json-schema` response format; read leniently as the loop reads it (code fences
 * and trailing commas are repaired). With a `json` response format and no schema it must only be
 * JSON; without either it is accepted. The schema must describe an object, as the loop's output
 * schemas do (a TypeError says so otherwise). A turn with tool calls is accepted.
 */
export function validJsonOutput(schema?: JsonSchema): Verifier {
  const compiled = new WeakMap<JsonSchema, Tool>();
  const validatorFor = (outputSchema: JsonSchema): Tool => {
    let checked = compiled.get(outputSchema);
    if (checked === undefined) {
      checked = tool({
        name: 'final_output',
        description: 'The final answer.',
        input: outputSchema,
        execute: () => undefined,
      });
      compiled.set(outputSchema, checked);
    }
    return checked;
  };
  if (schema !== undefined) validatorFor(schema);

  return function verifyJsonOutput(response, request) {
    if (response.toolCalls.length > 0) return { accept: true, reason: 'valid-json-output: not a final answer' };
    const format = request.responseFormat;
    const outputSchema = schema ?? (format?.type === 'json-schema' ? format.schema : undefined);
    if (outputSchema === undefined && format?.type !== 'json') {
      return { accept: true, reason: 'valid-json-output: no JSON output was asked for' };
    }
    const parsed = parseJsonText(response.text);
    if (!parsed.success) return reject(`valid-json-output: the answer is not JSON (${parsed.reason})`);
    if (outputSchema === undefined) return { accept: true, reason: 'valid-json-output: the answer is JSON' };
    const validation = validatorFor(outputSchema).validate(parsed.value);
    if (validation.success) return { accept: true, reason: 'valid-json-output: the answer matches the schema' };
    const issues = validation.issues.map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`);
    return reject(`valid-json-output: the answer does not match the schema: ${issues.join('; ')}`);
  };
}

/**
 * Run verifiers in order until one rejects. Accepted: every verifier's reason; rejected: the
 * first rejection's.
 */
export async function runVerifiers(
  verifiers: readonly Verifier[],
  response: ModelResponse,
  request: ModelRequest,
): Promise<Verdict> {
  const reasons: string[] = [];
  for (const verify of verifiers) {
    const verdict = await verify(response, request);
    if (!verdict.accept) return verdict;
    reasons.push(verdict.reason);
  }
  return { accept: true, reason: reasons.join('; ') || 'no verifiers' };
}

function reject(reason: string): Verdict {
  return { accept: false, reason };
}
