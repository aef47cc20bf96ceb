import { isDeepStrictEqual } from 'node:util';
import { it } from 'vitest';
import { extractTextToolCalls, prepareToolCall, tool, type Tool } from '../src/tools/index.js';
import { answeredCategories, categoryLanguage, readAnsweredEntries } from './bfcl-corpus.js';
import { pickGroundTruthCall } from './bfcl-ground-truth.js';
import { bfclToJsonSchema } from './bfcl-schema.js';
import { writeLiteral } from './call-corruptions.js';

it('probe', () => {
  const tallies: Record<string, [number, number, string[]]> = {};
  const note = (k: string, ok: boolean, detail: string) => { const t = (tallies[k] ??= [0, 0, []]); t[0]++; if (ok) t[1]++; else if (t[2].length < 6) t[2].push(detail); };
  let textCalls = 0; const textSamples: string[] = [];
  for (const category of answeredCategories) {
    const language = categoryLanguage(category);
    for (const { entry, answer } of readAnsweredEntries(category)) {
      const tools: Tool[] = entry.function.map((d) => tool({ name: d.name, description: d.description, input: bfclToJsonSchema(d.parameters, language), execute: () => null }));
      const names = tools.map((t) => t.name);
      for (const turn of entry.question) for (const m of turn) { const r = extractTextToolCalls(m.content, names); if (r.calls.length) { textCalls++; textSamples.push(entry.id + ' ' + JSON.stringify(r.calls)); } }
      answer.ground_truth.forEach((item) => {
        const def = entry.function.find((d) => d.name === Object.keys(item)[0])!;
        const call = pickGroundTruthCall(item, def.parameters, language);
        const clean = prepareToolCall(tools, { name: call.name, arguments: JSON.stringify(call.arguments) });
        if (clean.status !== 'ready') return;
        const check = (k: string, name: string, args: string) => { const p = prepareToolCall(tools, { name, arguments: args }); note(k, p.status === 'ready' && p.tool.name === call.name && isDeepStrictEqual(p.input, clean.input), `${entry.id} ${name} ${args} -> ${p.status === 'ready' ? p.tool.name + ' ' + JSON.stringify(p.input) : p.message}`); };
        const s = { singleQuotes: true, unquotedKeys: false, trailingCommas: true, pythonConstants: true };
        check('python-repr', call.name, writeLiteral(call.arguments, s));
        check('prefix', `functions.${call.name}`, JSON.stringify(call.arguments));
        check('upper', call.name.toUpperCase(), JSON.stringify(call.arguments));
        check('truncated', call.name, JSON.stringify(call.arguments).slice(0, -1));
        check('whole-call-in-args', call.name, JSON.stringify({ name: call.name, arguments: call.arguments }));
        check('stringified-args', call.name, JSON.stringify(JSON.stringify(call.arguments)));
        check('tagged-text', call.name, `<tool_call>${JSON.stringify({ name: call.name, arguments: call.arguments })}</tool_call>`);
        const ex = extractTextToolCalls(`I'll call it.\n<tool_call>\n${JSON.stringify({ name: call.name, arguments: call.arguments })}\n</tool_call>`, names);
        const c0 = ex.calls[0];
        if (c0) check('extracted', c0.name, c0.arguments); else note('extracted', false, entry.id + ' none');
        const fenced = extractTextToolCalls('```json\n' + JSON.stringify({ name: call.name, arguments: call.arguments }) + '\n```', names);
        const c1 = fenced.calls[0];
        if (c1) check('extracted-fence', c1.name, c1.arguments); else note('extracted-fence', false, entry.id + ' none');
      });
    }
  }
  for (const [k, [a, r, d]] of Object.entries(tallies)) console.log(k, r, '/', a, '\n  ' + d.join('\n  '));
  console.log('text calls in answered questions', textCalls, textSamples.slice(0, 5));
});
