/**
 * Turning a model's tool call into a validated input, or into feedback the model can act on.
 *
 * This is the boundary where model output becomes typed data. Each step is tried strictly
 * before leniently, and every leniency is recorded as a repair: resolve the tool name (exact,
 * then near miss), parse the argument text (exact JSON, then repaired), validate, and if that
 * fails, coerce the value against the tool's schema and validate again. A call that still fails
 * is returned as `invalid` with a message written for the model. Bad model output never throws.
 */
import { coerceToSchema } from './repair/coerce.js';
import { parseJsonText } from './repair/json-text.js';
import { matchToolName } from './repair/tool-name.js';
import type { Tool, ToolInputIssue, ValidationResult } from './tool.js';

/** A tool call as the model made it (natively or in text). */
export interface ToolCallRequest {
  name: string;
  /** Raw argument text. */
  arguments: string;
}

/** A call ready to execute: the tool and its validated (and, for zod, transformed) input. */
export interface ReadyToolCall {
  status: 'ready';
  tool: Tool;
  input: unknown;
  /**
   * The arguments after repair, as they were validated (before the tool's defaults and
   * transforms): what the history should show the model instead of the text it wrote.
   */
  repairedArguments: unknown;
  /** What had to be fixed, in words, e.g. `days: converted string "5" to integer`; empty if nothing. */
  repairs: string[];
}

/** A call that cannot run; `message` goes back to the model as the tool result. */
export interface InvalidToolCall {
  status: 'invalid';
  /** The resolved tool name, or the name as written when no tool matched. */
  toolName: string;
  /** The tool, when the name resolved. */
  tool: Tool | undefined;
  issues: ToolInputIssue[];
  /** For the model: which tool, each issue as `path: message`, and what to do next. */
  message: string;
  /** Repairs made before the call was found invalid (a renamed tool, fixed JSON syntax). */
  repairs: string[];
  /** The arguments as far as they could be parsed; undefined when they are not JSON at all. */
  parsedArguments?: unknown;
}

export type PreparedToolCall = ReadyToolCall | InvalidToolCall;

/** Keys models wrap their arguments in, e.g. `{"arguments": {...}}` inside the arguments text. */
const wrapperKeys = ['arguments', 'parameters', 'input', 'args'];

/**
 * Resolve, parse, validate and if needed repair a tool call against the available tools.
 *
 * Never throws for bad model output; only a tool whose own `validate` throws (a bug in the tool)
 * propagates.
 */
export function prepareToolCall(tools: readonly Tool[], call: ToolCallRequest): PreparedToolCall {
  const repairs: string[] = [];

  let tool = tools.find((candidate) => candidate.name === call.name);
  if (tool === undefined) {
    const match = matchToolName(
      call.name,
      tools.map((candidate) => candidate.name),
    );
    tool = match === undefined ? undefined : tools.find((candidate) => candidate.name === match.name);
    if (tool === undefined) return unknownTool(tools, call.name);
    repairs.push(`matched tool name ${JSON.stringify(call.name)} to ${JSON.stringify(tool.name)}`);
  }

  const parsed = parseJsonText(call.arguments);
  if (!parsed.success) {
    const issues = [{ path: [], message: `arguments are not valid JSON (${parsed.reason})` }];
    return invalid(
      tool,
      issues,
      repairs,
      `Call ${JSON.stringify(tool.name)} again with its arguments as one JSON object that matches its input schema.`,
    );
  }
  repairs.push(...parsed.repairs);

  const first = tool.validate(parsed.value);
  if (first.success) return { status: 'ready', tool, input: first.data, repairedArguments: parsed.value, repairs };

  let closest: ValidationResult<unknown> = first;
  const coerced = coerceToSchema(parsed.value, tool.inputSchema);
  if (coerced.repairs.length > 0) {
    const coercionRepairs = coerced.repairs.map((repair) => `${formatIssuePath(repair.path)}: ${repair.description}`);
    const second = tool.validate(coerced.value);
    if (second.success) {
      return {
        status: 'ready',
        tool,
        input: second.data,
        repairedArguments: coerced.value,
        repairs: [...repairs, ...coercionRepairs],
      };
    }
    closest = second;
  }

  const unwrapped = unwrapArguments(coerced.value, tool);
  if (unwrapped !== undefined) {
    const recoerced = coerceToSchema(unwrapped.value, tool.inputSchema);
    const third = tool.validate(recoerced.value);
    if (third.success) {
      return {
        status: 'ready',
        tool,
        input: third.data,
        repairedArguments: recoerced.value,
        repairs: [
          ...repairs,
          `unwrapped arguments from ${JSON.stringify(unwrapped.key)}`,
          ...recoerced.repairs.map((repair) => `${formatIssuePath(repair.path)}: ${repair.description}`),
        ],
      };
    }
  }

  const issues = closest.success ? [] : closest.issues;
  return {
    ...invalid(tool, issues, repairs, `Fix these and call ${JSON.stringify(tool.name)} again.`),
    parsedArguments: parsed.value,
  };
}

/**
 * A path as the model would write it: `items[0].qty`; `(arguments)` for the whole object.
 */
export function formatIssuePath(path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return '(arguments)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * Models sometimes nest the real arguments one level down: `{"arguments": {"city": "Oslo"}}`.
 * Offer the inner object when the wrapper is the only key and the schema does not declare it.
 */
function unwrapArguments(value: unknown, tool: Tool): { key: string; value: unknown } | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  const key = keys[0];
  if (keys.length !== 1 || key === undefined || !wrapperKeys.includes(key)) return undefined;
  const declared = isRecord(tool.inputSchema.properties) ? tool.inputSchema.properties : {};
  if (Object.hasOwn(declared, key)) return undefined;
  const inner = value[key];
  if (isRecord(inner)) return { key, value: inner };
  if (typeof inner === 'string') {
    const parsed = parseJsonText(inner);
    if (parsed.success && isRecord(parsed.value)) return { key, value: parsed.value };
  }
  return undefined;
}

function unknownTool(tools: readonly Tool[], writtenName: string): InvalidToolCall {
  const available = tools.map((candidate) => candidate.name);
  const message =
    available.length === 0
      ? `Tool ${JSON.stringify(writtenName)} does not exist, and no tools are available. Answer without calling a tool.`
      : `Tool ${JSON.stringify(writtenName)} does not exist. Available tools: ${available.join(', ')}. Call one of these by its exact name.`;
  return {
    status: 'invalid',
    toolName: writtenName,
    tool: undefined,
    issues: [{ path: [], message: `unknown tool ${JSON.stringify(writtenName)}` }],
    message,
    repairs: [],
  };
}

function invalid(tool: Tool, issues: ToolInputIssue[], repairs: string[], advice: string): InvalidToolCall {
  const lines = issues.map((issue) => `- ${formatIssuePath(issue.path)}: ${issue.message}`);
  const message = [`Invalid arguments for tool ${JSON.stringify(tool.name)}:`, ...lines, advice].join('\n');
  return { status: 'invalid', toolName: tool.name, tool, issues, message, repairs };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
