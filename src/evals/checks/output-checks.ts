/** Checks of the final output: exact text, a regular expression, a number, a JSON Schema. */
import { createRequire } from 'node:module';
import { parseJsonText } from '../../tools/repair/json-text.js';
import type { EvalCheck } from '../suite-schema.js';
import { type CheckResult, outputText } from './check-result.js';

type Of<K extends string> = Extract<EvalCheck, Record<K, unknown>>;

function result(kind: CheckResult['kind'], name: string, passed: boolean, detail: string): CheckResult {
  return { kind, name, passed, detail, modelGraded: false, skipped: false };
}

export function exactCheck(check: Of<'exact'>, output: unknown): CheckResult {
  const text = outputText(output as never).trim();
  const caseSensitive = check.caseSensitive ?? true;
  const passed = caseSensitive ? text === check.exact.trim() : text.toLowerCase() === check.exact.trim().toLowerCase();
  return result(
    'exact',
    check.name ?? `exact ${JSON.stringify(check.exact)}`,
    passed,
    passed ? 'the output is exactly that' : `the output is ${JSON.stringify(text.slice(0, 120))}`,
  );
}

export function regexCheck(check: Of<'regex'>, output: unknown): CheckResult {
  const pattern = new RegExp(check.regex, check.flags ?? '');
  const passed = pattern.test(outputText(output as never));
  return result(
    'regex',
    check.name ?? `output matches /${check.regex}/`,
    passed,
    passed ? 'matches' : 'no match in the output',
  );
}

export function numberCheck(check: Of<'number'>, output: unknown): CheckResult {
  const name = check.name ?? `number ${check.number} ± ${check.tolerance ?? 0}`;
  let value: number | undefined;
  if (check.field !== undefined) {
    const parsed =
      typeof output === 'object' && output !== null
        ? { success: true as const, value: output }
        : parseJsonText(outputText(output as never));
    const found =
      parsed.success && typeof parsed.value === 'object' && parsed.value !== null
        ? (parsed.value as Record<string, unknown>)[check.field]
        : undefined;
    value =
      typeof found === 'number' ? found : typeof found === 'string' ? Number(found.replace(/[,$\s]/g, '')) : undefined;
  } else {
    const numbers = outputText(output as never).match(/-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?/g) ?? [];
    const last = numbers.at(-1);
    value = last === undefined ? undefined : Number(last.replace(/,/g, ''));
  }
  if (value === undefined || Number.isNaN(value))
    return result(
      'number',
      name,
      false,
      check.field ? `no number in field "${check.field}"` : 'no number in the output',
    );
  const passed = Math.abs(value - check.number) <= (check.tolerance ?? 0);
  return result('number', name, passed, `found ${value}`);
}

const require = createRequire(import.meta.url);
let validator: import('ajv').Ajv | undefined;

/** Ajv, loaded on the first JSON Schema check: importing the package must not load it. */
function schemaValidator(): import('ajv').Ajv {
  if (validator === undefined) {
    const { Ajv } = require('ajv') as typeof import('ajv');
    validator = new Ajv({ allErrors: false, strict: false });
  }
  return validator;
}

export function jsonSchemaCheck(check: Of<'jsonSchema'>, output: unknown): CheckResult {
  const name = check.name ?? 'output matches the JSON Schema';
  const parsed =
    typeof output === 'object' && output !== null
      ? { success: true as const, value: output }
      : parseJsonText(outputText(output as never));
  if (!parsed.success) return result('json-schema', name, false, 'the output is not JSON');
  let validate: ReturnType<import('ajv').Ajv['compile']>;
  try {
    validate = schemaValidator().compile(check.jsonSchema);
  } catch (error) {
    return result('json-schema', name, false, `the check's schema does not compile: ${(error as Error).message}`);
  }
  const passed = validate(parsed.value) === true;
  const first = validate.errors?.[0];
  return result(
    'json-schema',
    name,
    passed,
    passed ? 'valid' : `${first?.instancePath || '(root)'} ${first?.message ?? 'invalid'}`,
  );
}
