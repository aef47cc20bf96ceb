/**
 * The grammars the local provider generates under, built with node-llama-cpp:
 * - a JSON Schema grammar (tool calls, structured output);
 * - the call-or-text grammar for `toolChoice: auto`: its root is either the tool-call grammar or
 *   text whose first character is not `{`, so the model's first token makes the choice;
 * - free JSON for `responseFormat: json`.
 *
 * Numbers are held to what `JSON.parse` reads back as valid: node-llama-cpp's rules allow an
 * exponent of up to 16 digits (`1e9999999999` parses to Infinity) and an exponent on integers
 * (`3e-91` is not an integer); here integers have no exponent and other numbers at most two
 * exponent digits.
 */
import type { GbnfJsonSchema, Llama, LlamaGrammar } from 'node-llama-cpp';

/** A grammar producing JSON valid against `schema`. */
export async function createJsonSchemaGrammar(llama: Llama, schema: GbnfJsonSchema): Promise<LlamaGrammar> {
  const base = await schemaGrammar(llama, schema);
  return llama.createGrammar({
    grammar: finiteNumbers(base.grammar),
    stopGenerationTriggers: [...base.stopGenerationTriggers],
    trimWhitespaceSuffix: base.trimWhitespaceSuffix,
  });
}

/** A grammar producing either a call valid against `callSchema` or text not starting with `{`. */
export async function createCallOrTextGrammar(llama: Llama, callSchema: GbnfJsonSchema): Promise<LlamaGrammar> {
  const call = await schemaGrammar(llama, callSchema);
  return llama.createGrammar({
    grammar: callOrTextGrammar(finiteNumbers(call.grammar)),
    stopGenerationTriggers: [...call.stopGenerationTriggers],
    trimWhitespaceSuffix: true,
  });
}

/** A grammar producing any JSON object. */
export async function createJsonGrammar(llama: Llama): Promise<LlamaGrammar> {
  const base = await llama.getGrammarFor('json');
  return llama.createGrammar({ grammar: finiteNumbers(base.grammar) });
}

/** The call grammar's rules with its root renamed, under a root that also allows text. */
export function callOrTextGrammar(callGrammar: string): string {
  const renamed = callGrammar.replace(/^root ::=/m, 'hataraku-call ::=');
  return `root ::= hataraku-call | hataraku-text\nhataraku-text ::= ([^{] [^\\x00]*)?\n${renamed}`;
}

/**
 * Numbers JavaScript reads back as they were meant: integers without an exponent (node-llama-cpp
 * allows `3e-91` for an integer, which is not one), other numbers with an exponent of at most
 * two digits.
 */
export function finiteNumbers(grammar: string): string {
  const exponent = '([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?';
  return grammar
    .split('\n')
    .map((line) =>
      line.startsWith('integer-number-rule ::=')
        ? line.replace(` ${exponent}`, '')
        : line.replaceAll(exponent, '([eE] [-+]? [0-9]{1,2})?'),
    )
    .join('\n')
    .replaceAll('[eE] [-+]? [0-9] [1-9]{0,15}', '[eE] [-+]? [0-9]{1,2}');
}

/** The schema is built at run time, so the compiler cannot infer the literal type the method wants. */
function schemaGrammar(llama: Llama, schema: GbnfJsonSchema): Promise<LlamaGrammar> {
  return llama.createGrammarForJsonSchema(schema as Parameters<Llama['createGrammarForJsonSchema']>[0]);
}
