/**
 * Turning BFCL's ground truth (lists of accepted values per parameter) into one concrete call.
 *
 * BFCL accepts any of several values per parameter, and `""` among them means the parameter may
 * be left out. The suite needs one call it can serialise and check, so it takes the first
 * non-empty value of each list and leaves out the parameters that may be left out.
 */
import type { BfclLanguage, BfclSchema } from './bfcl-corpus.js';

/** One concrete call chosen from the ground truth. */
export interface GroundTruthCall {
  /** The function name as BFCL writes it, e.g. `math.factorial`. */
  name: string;
  /** The arguments object, ready for `JSON.stringify`. */
  arguments: Record<string, unknown>;
}

/**
 * The concrete call for one ground-truth item `{ name: { parameter: allowed } }`.
 *
 * A parameter whose allowed values include `""` is left out, unless the schema lists it as
 * required: a few answers say "may be omitted" for a required parameter (BFCL's checker would
 * then reject the omission), and the first non-empty value is the call BFCL itself accepts.
 * For JavaScript, every value is written as a literal in a string, as BFCL's models are asked to.
 */
export function pickGroundTruthCall(
  item: Record<string, Record<string, unknown[]>>,
  parameters: BfclSchema | undefined,
  language: BfclLanguage,
): GroundTruthCall {
  const entries = Object.entries(item);
  const [first] = entries;
  if (first === undefined || entries.length !== 1) {
    throw new Error(`BFCL ground truth: expected one function per call, got ${JSON.stringify(Object.keys(item))}`);
  }
  const [name, allowedByParameter] = first;
  const required = parameters !== undefined && Array.isArray(parameters.required) ? parameters.required : [];
  const args: Record<string, unknown> = {};
  for (const [parameter, allowed] of Object.entries(allowedByParameter)) {
    const value = pickAllowed(allowed, required.includes(parameter));
    if (value === undefined) continue;
    args[parameter] = language === 'javascript' ? asJavaScriptLiteral(value.chosen) : value.chosen;
  }
  return { name, arguments: args };
}

/** The first non-empty allowed value, or undefined when the parameter may be (and is) left out. */
function pickAllowed(allowed: unknown[], isRequired: boolean): { chosen: unknown } | undefined {
  if (allowed.includes('') && !isRequired) return undefined;
  const chosen = allowed.find((value) => value !== '');
  if (chosen === undefined) return undefined;
  return { chosen: concreteValue(chosen) };
}

/**
 * Inside an allowed value, a dict maps each key to its own allowed list (BFCL checks nested
 * dicts key by key), so it is resolved the same way; lists are taken element by element.
 */
function concreteValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(concreteValue);
  if (typeof value !== 'object' || value === null) return value;
  const resolved: Record<string, unknown> = {};
  for (const [key, allowed] of Object.entries(value)) {
    if (!Array.isArray(allowed)) {
      resolved[key] = concreteValue(allowed);
      continue;
    }
    const picked = pickAllowed(allowed, false);
    if (picked !== undefined) resolved[key] = picked.chosen;
  }
  return resolved;
}

/** A JavaScript value written as the literal text a model would pass (strings stay as they are). */
function asJavaScriptLiteral(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
