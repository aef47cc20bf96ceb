import { it } from 'vitest';
import { parseJsonText } from '/work/main/src/tools/repair/json-text.js';
import { prepareToolCall, tool } from '/work/main/src/tools/index.js';
import { matchToolName } from '/work/main/src/tools/repair/tool-name.js';
it('r', () => {
  console.log(JSON.stringify(parseJsonText('{"a": 1, "b": [1, 3]')));
  console.log(JSON.stringify(parseJsonText('{"a": 1, "b": {"c": 2}')));
  console.log(JSON.stringify(parseJsonText('{"a": 1, "b": [1, 3')));
  const search = tool({ name: 'search', description: 'd', input: { type: 'object', properties: { limit: { type: 'integer' }, filter: { type: 'object', properties: { limit: { type: 'integer' } } } } }, execute: () => null });
  console.log(JSON.stringify(prepareToolCall([search], { name: 'search', arguments: '{"limit": 5, "filter": {"limit": 10}' })));
  console.log(JSON.stringify(matchToolName('functions_intersect', ['functions.intersect', 'functions.zero'])));
  console.log(JSON.stringify(matchToolName('functions.functions.intersect', ['functions.intersect', 'functions.zero'])));
  console.log(JSON.stringify(matchToolName('tool_search', ['tool.search'])));
  console.log(JSON.stringify(matchToolName('intersect', ['functions.intersect', 'functions.zero'])));
});
