/**
 * `tool()`: define a tool from a zod v4 schema or a plain JSON Schema.
 *
 * Either way the result is a `Tool` with a JSON Schema for the model and a `validate` function.
 * A zod schema is converted with `z.toJSONSchema` (describing the *input* side, so fields with
 * defaults are optional to the model) and validated with zod, which also applies its transforms
 * and defaults. A JSON Schema is compiled once with Ajv and validated with it; `default`s in the
 * schema are filled in, and `format` is not checked (that needs the `ajv-formats` plugin). A
 * `default` that fails its own schema (not in its enum, the wrong type) is dropped when the tool
 * is defined, with a warning in `tool.warnings`: applied, it would make a call that rightly
 * leaves the parameter out fail on a value the model never sent.
 */
import { createRequire } from 'node:module';
import type { Ajv, Options as AjvOptions, ErrorObject, ValidateFunction } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import type { ToolDefaultPolicy } from '../agent/policy.js';
import type { JsonSchema } from '../models/spec.js';
import type { Tool, ToolContext, ToolEffect, ToolInputIssue, ValidationResult } from './tool.js';

/**
 * Allowed tool names: letters, digits, `_`, `.` and `-`, 1 to 64 characters. Some providers
 * (OpenAI among them) reject dots in function names; prefer `_` or `-` for portable tools.
 */
export const toolNamePattern = /^[a-zA-Z0-9_.-]{1,64}$/;

const toolEffects: readonly ToolEffect[] = ['none', 'idempotent', 'side-effect'];

interface ToolOptionsBase {
  /** Name the model calls the tool by; must match {@link toolNamePattern}. */
  name: string;
  /** What the tool does and when to use it, written for the model. */
  description: string;
  /** What running the tool does to the world; defaults to `none` (reads only). */
  effect?: ToolEffect;
  /** Run alone: no other tool call of the run runs while this one does. Default false. */
  exclusive?: boolean;
  /**
   * Ask providers that enforce schemas while generating (OpenAI, Anthropic 4.5+) to do so for
   * this tool. Optional parameters then come as `null` and are dropped before validation.
   */
  strict?: boolean;
  /**
   * Policies for this tool's own calls, applied when none of the agent's policies matches a
   * call (see `Tool.defaultPolicies`).
   */
  defaultPolicies?: readonly ToolDefaultPolicy[];
}

/** Options for a tool whose input is described by a zod v4 schema. */
export interface ZodToolOptions<Schema extends z.core.$ZodType, Output> extends ToolOptionsBase {
  /** A zod schema of an object; `execute` receives its parsed output. */
  input: Schema;
  execute(input: z.output<Schema>, context: ToolContext): Promise<Output> | Output;
}

/** Options for a tool whose input is described by a plain JSON Schema object. */
export interface JsonSchemaToolOptions<Input extends Record<string, unknown>, Output> extends ToolOptionsBase {
  /**
   * A JSON Schema of an object (draft 2020-12, or draft-07 when its `$schema` says so). `type`
   * may be omitted; it is set to `object`.
   */
  input: JsonSchema;
  /** Receives arguments that passed the schema; `Input` is trusted, not checked, by TypeScript. */
  execute(input: Input, context: ToolContext): Promise<Output> | Output;
}

/**
 * Define a tool.
 *
 * @example
 * const weather = tool({
 *   name: 'get_weather',
 *   description: 'Current weather for a city.',
 *   input: z.object({ city: z.string(), unit: z.enum(['c', 'f']).default('c') }),
 *   execute: async ({ city, unit }) => fetchWeather(city, unit),
 * });
 *
 * @throws TypeError naming the option when an option is missing or malformed, or when the input
 *   schema does not describe an object or cannot be compiled.
 */
export function tool<Schema extends z.core.$ZodType, Output>(
  options: ZodToolOptions<Schema, Output>,
): Tool<z.output<Schema>, Output>;
export function tool<Input extends Record<string, unknown> = Record<string, unknown>, Output = unknown>(
  options: JsonSchemaToolOptions<Input, Output>,
): Tool<Input, Output>;
export function tool(
  options: ZodToolOptions<z.core.$ZodType, unknown> | JsonSchemaToolOptions<Record<string, unknown>, unknown>,
): Tool<unknown, unknown> {
  if (typeof options !== 'object' || options === null) throw new TypeError('tool(): options must be an object');
  const { name, description, input, execute } = options;
  const effect = options.effect ?? 'none';
  if (typeof name !== 'string' || !toolNamePattern.test(name)) {
    throw new TypeError(`tool(): \`name\` must match ${String(toolNamePattern)}, got ${JSON.stringify(name)}`);
  }
  if (typeof description !== 'string' || description.trim() === '') {
    throw new TypeError(`tool(${name}): \`description\` must be a non-empty string`);
  }
  if (!toolEffects.includes(effect)) {
    throw new TypeError(
      `tool(${name}): \`effect\` must be one of ${toolEffects.join(', ')}, got ${JSON.stringify(effect)}`,
    );
  }
  if (typeof execute !== 'function') throw new TypeError(`tool(${name}): \`execute\` must be a function`);
  if (options.exclusive !== undefined && typeof options.exclusive !== 'boolean') {
    throw new TypeError(`tool(${name}): \`exclusive\` must be a boolean, got ${JSON.stringify(options.exclusive)}`);
  }
  const defaultPolicies = options.defaultPolicies;
  if (
    defaultPolicies !== undefined &&
    (!Array.isArray(defaultPolicies) ||
      !defaultPolicies.every(
        (policy) =>
          typeof policy === 'object' &&
          policy !== null &&
          ['allow', 'deny', 'ask'].includes(policy.action) &&
          !('tool' in policy),
      ))
  ) {
    throw new TypeError(
      `tool(${name}): \`defaultPolicies\` must be a list of policies with an action of allow, deny or ask, and no \`tool\` (they apply to this tool only)`,
    );
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`tool(${name}): \`input\` must be a zod schema or a JSON Schema object`);
  }

  const { inputSchema, validate, warnings } = isZodSchema(input) ? fromZod(name, input) : fromJsonSchema(name, input);
  return Object.freeze({
    name,
    description,
    inputSchema,
    effect,
    ...(options.exclusive === true ? { exclusive: true } : {}),
    ...(options.strict === true ? { strict: true } : {}),
    ...(defaultPolicies !== undefined && defaultPolicies.length > 0
      ? { defaultPolicies: Object.freeze([...defaultPolicies]) }
      : {}),
    warnings: Object.freeze(warnings),
    validate,
    execute: execute as Tool<unknown, unknown>['execute'],
  });
}

/** Whether a value is a zod v4 schema (classic or mini); every v4 schema carries `_zod`. */
export function isZodSchema(value: unknown): value is z.core.$ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

interface CompiledInput {
  inputSchema: JsonSchema;
  validate: (args: unknown) => ValidationResult<unknown>;
  warnings: string[];
}

function fromZod(name: string, schema: z.core.$ZodType): CompiledInput {
  let converted: JsonSchema;
  try {
    converted = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  } catch (error) {
    throw new TypeError(
      `tool(${name}): \`input\` cannot be expressed as JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const inputSchema = asObjectSchema(name, converted);
  return {
    inputSchema,
    warnings: [],
    validate(args) {
      const result = z.safeParse(schema, args);
      if (result.success) return { success: true, data: result.data };
      return {
        success: false,
        issues: result.error.issues.map((issue) => ({
          path: issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment)),
          message: issue.message,
        })),
      };
    },
  };
}

function fromJsonSchema(name: string, schema: JsonSchema): CompiledInput {
  let copy: JsonSchema;
  try {
    copy = structuredClone(schema);
  } catch (error) {
    throw new TypeError(`tool(${name}): \`input\` must be plain JSON data`, { cause: error });
  }
  const inputSchema = asObjectSchema(name, copy);
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  // Ajv 8's default class speaks draft-07 (and 06); everything else is read as 2020-12, the
  // dialect zod emits and providers document.
  const isDraft07 = /draft-0[67]/.test(dialect);
  let check: ValidateFunction;
  const warnings: string[] = [];
  try {
    const compiler = schemaCompiler(isDraft07 ? 'draft-07' : '2020-12');
    warnings.push(...dropInvalidDefaults(name, inputSchema, compiler));
    check = compiler.compile(inputSchema);
    // The compiled function stands alone; dropping the cache entry keeps tools defined per run
    // from piling up in the shared instance.
    compiler.removeSchema(inputSchema);
  } catch (error) {
    throw new TypeError(
      `tool(${name}): \`input\` is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return {
    inputSchema,
    warnings,
    validate(args) {
      // Ajv writes defaults into the data it checks; work on a copy so the caller's value is untouched.
      const data = cloneJson(args);
      if (check(data)) return { success: true, data };
      return { success: false, issues: (check.errors ?? []).map(issueFromAjvError) };
    },
  };
}

/**
 * One Ajv instance per dialect, created on first use and shared by every tool: an instance costs
 * about 100 ms to set up (it compiles the meta-schemas), a tool's schema about 3 ms. Tools do not
 * see each other: `addUsedSchema: false` keeps a schema's `$id` out of the shared registry.
 */
const compilers = new Map<'draft-07' | '2020-12', Ajv | Ajv2020>();

/**
 * Ajv itself is required only when the first JSON Schema tool is defined: loading it takes about
 * 100 ms, and tools defined with zod never need it. It is CommonJS, and `tool()` is synchronous.
 */
const require = createRequire(import.meta.url);

function schemaCompiler(dialect: 'draft-07' | '2020-12'): Ajv | Ajv2020 {
  let compiler = compilers.get(dialect);
  if (compiler === undefined) {
    const options: AjvOptions = {
      allErrors: true,
      strict: false,
      logger: false,
      validateFormats: false,
      useDefaults: true,
      addUsedSchema: false,
    };
    if (dialect === 'draft-07') {
      const { Ajv: Draft07Ajv } = require('ajv') as typeof import('ajv');
      compiler = new Draft07Ajv(options);
    } else {
      const { Ajv2020: Draft2020Ajv } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
      compiler = new Draft2020Ajv(options);
    }
    compilers.set(dialect, compiler);
  }
  return compiler;
}

/** Keys whose value is one subschema, a list of them, or a map of them. */
const subschemaKeys = ['items', 'additionalProperties', 'additionalItems', 'not', 'contains', 'if', 'then', 'else'];
const subschemaListKeys = ['anyOf', 'oneOf', 'allOf', 'prefixItems', 'items'];
const subschemaMapKeys = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/**
 * Remove, in place, every `default` that its own subschema rejects, and say which. Each default
 * is checked against its subschema without the default (with the root's `$defs` and
 * `definitions`, so local references resolve).
 */
function dropInvalidDefaults(name: string, root: JsonSchema, compiler: Ajv | Ajv2020): string[] {
  const warnings: string[] = [];
  const shared: Record<string, unknown> = {};
  if (root.$defs !== undefined) shared.$defs = root.$defs;
  if (root.definitions !== undefined) shared.definitions = root.definitions;
  const visit = (node: unknown, where: string, depth: number): void => {
    if (depth > 64 || typeof node !== 'object' || node === null || Array.isArray(node)) return;
    const schema = node as Record<string, unknown>;
    for (const key of subschemaKeys) if (!Array.isArray(schema[key])) visit(schema[key], `${where}/${key}`, depth + 1);
    for (const key of subschemaListKeys) {
      const list = schema[key];
      if (!Array.isArray(list)) continue;
      for (const [position, entry] of list.entries()) visit(entry, `${where}/${key}/${position}`, depth + 1);
    }
    for (const key of subschemaMapKeys) {
      const map = schema[key];
      if (typeof map === 'object' && map !== null && !Array.isArray(map)) {
        for (const [entryName, entry] of Object.entries(map)) visit(entry, `${where}/${key}/${entryName}`, depth + 1);
      }
    }
    if (!('default' in schema)) return;
    const { default: fallback, ...withoutDefault } = schema;
    let valid: boolean;
    try {
      const subschema = { ...withoutDefault, ...(depth === 0 ? {} : shared) };
      const check = compiler.compile(subschema);
      compiler.removeSchema(subschema);
      valid = check(cloneJson(fallback)) === true;
    } catch {
      // The subschema cannot be checked on its own (say, a reference to the root); keep it.
      return;
    }
    if (valid) return;
    delete schema.default;
    warnings.push(
      `tool(${name}): the default ${JSON.stringify(fallback)} at ${where || '/'} does not match its own schema; it was dropped and is never applied.`,
    );
  };
  visit(root, '', 0);
  return warnings;
}

/** Drop `$schema` (providers don't want it) and make sure the schema describes an object. */
function asObjectSchema(name: string, schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  if (rest.type === undefined) return { type: 'object', ...rest };
  if (rest.type !== 'object') {
    throw new TypeError(
      `tool(${name}): \`input\` must describe an object (tool arguments are a JSON object), got type ${JSON.stringify(rest.type)}`,
    );
  }
  return rest;
}

function issueFromAjvError(error: ErrorObject): ToolInputIssue {
  const path = parseInstancePath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'is required' };
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], message: 'is not an allowed property' };
    case 'enum':
      return {
        path,
        message: `must be one of ${(Array.isArray(params.allowedValues) ? params.allowedValues : []).map((value) => JSON.stringify(value)).join(', ')}`,
      };
    default:
      return { path, message: error.message ?? `fails the \`${error.keyword}\` rule` };
  }
}

/** `/items/0/qty` → `['items', 0, 'qty']` (JSON Pointer, with `~1` and `~0` decoded). */
function parseInstancePath(instancePath: string): Array<string | number> {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((segment) => {
      const decoded = segment.replaceAll('~1', '/').replaceAll('~0', '~');
      return /^(?:0|[1-9]\d*)$/.test(decoded) ? Number(decoded) : decoded;
    });
}

function cloneJson(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}
