/**
 * The import graph's shape, checked on every test run: no import cycles between files (type
 * imports count), and no import from a lower layer to a higher one. The layers are drawn in
 * `docs/architecture.md`; an import of types only (`import type`) may point up, since it names an
 * interface and loads nothing. The loop (`src/agent/`) has no function over 80 lines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Bottom to top; a folder may import from its own layer and the ones below. */
const layers: string[][] = [
  ['errors'],
  ['models'],
  ['engine', 'cost', 'tools', 'cache'],
  ['routing', 'context', 'toolchain', 'connectors', 'telemetry'],
  ['agent'],
  ['config', 'decomposition'],
  ['model-registry', 'hataraku', 'examples', 'evals', 'testing'],
  ['cli', 'server', 'index'],
];

const root = resolve(dirname(new URL(import.meta.url).pathname));

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return name === '__fixtures__' ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^;]*?)\sfrom\s+'(\.{1,2}\/[^']+)'/gm;
  for (const match of text.matchAll(statement)) {
    const names = match[3] ?? '';
    // `import { type A, type B }` loads nothing either.
    const onlyTypeNames =
      /^\{[^}]*\}$/s.test(names.trim()) &&
      names
        .replace(/[{}\s]/g, '')
        .split(',')
        .filter(Boolean)
        .every((name) => name.startsWith('type'));
    edges.push({ from: file, to: target(file, match[4] ?? ''), typeOnly: match[2] !== undefined || onlyTypeNames });
  }
  for (const match of text.matchAll(/import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) {
    edges.push({ from: file, to: target(file, match[1] ?? ''), typeOnly: false });
  }
  return edges;
}

function target(file: string, specifier: string): string {
  return resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
}

function folderOf(file: string): string {
  const parts = relative(root, file).split('/');
  return parts.length === 1 ? (parts[0] ?? '').replace(/\.ts$/, '') : (parts[0] ?? '');
}

function layerOf(file: string): number {
  const folder = folderOf(file);
  const layer = layers.findIndex((members) => members.includes(folder));
  if (layer === -1)
    throw new Error(`src/${folder} is in no layer: add it to the layers here and in docs/architecture.md`);
  return layer;
}

/** Strongly connected groups of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member !== undefined) {
        onStack.delete(member);
        group.push(relative(root, member));
      }
    } while (member !== undefined && member !== node);
    if (group.length > 1) found.push(group.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const files = sourceFiles(root);
const edges = files.flatMap(importsOf);

describe('architecture', () => {
  it('has no import cycles between files', () => {
    const graph = new Map(files.map((file) => [file, [] as string[]]));
    for (const edge of edges) graph.get(edge.from)?.push(edge.to);
    expect(cycles(graph)).toEqual([]);
  });

  it('has no runtime import from a lower layer to a higher one', () => {
    const upward = edges
      .filter((edge) => !edge.typeOnly && layerOf(edge.to) > layerOf(edge.from))
      .map((edge) => `${relative(root, edge.from)} -> ${relative(root, edge.to)}`);
    expect(upward).toEqual([]);
  });

  it('keeps every function of the loop (src/agent) under 80 lines', () => {
    const long: string[] = [];
    for (const file of files.filter((path) => folderOf(path) === 'agent')) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, start) => {
        // A top-level function (declared, or an arrow assigned to a const) ends at the first `}` in column 0.
        if (!/^(export )?(async )?function |^(export )?const \w+ = (async )?\(/.test(line)) return;
        const end = lines.findIndex((text, position) => position > start && /^\}/.test(text));
        if (end - start + 1 > 80) long.push(`${relative(root, file)}:${start + 1} (${end - start + 1} lines)`);
      });
    }
    expect(long).toEqual([]);
  });
});
