/**
 * The public API, kept small on purpose: the root exports what a user writes to define and run
 * agents; everything else is under a subpath (package.json `exports`). A change to either list
 * is a decision: update the list here, and the README and CHANGELOG with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as root from './index.js';

const rootExports = [
  'HatarakuError',
  'JournalError',
  'LeaseLostError',
  'ModelCallError',
  'NonDeterminismError',
  'ToolError',
  'UserError',
  'agent',
  'createConcurrencyGate',
  'createHataraku',
  'isHatarakuError',
  'loadAttachment',
  'resume',
  'run',
  'submit',
  'tool',
];

const subpaths: Record<string, string> = {
  '.': 'index',
  './tools': 'toolchain/index',
  './tool-framework': 'tools/index',
  './models': 'model-registry/index',
  './routing': 'routing/index',
  './context': 'context/index',
  './cache': 'cache/index',
  './cost': 'cost/index',
  './journal': 'engine/index',
  './connectors': 'connectors/index',
  './decomposition': 'decomposition/index',
  './evals': 'evals/index',
  './config': 'config/index',
  './testing': 'testing/index',
  './telemetry': 'telemetry/index',
};

describe('the public API', () => {
  it('exports from the root only what a user writes', () => {
    expect(Object.keys(root).sort()).toEqual([...rootExports].sort());
  });

  it('puts everything else under the subpaths of package.json, each a folder index', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, string | { types: string; import: string }>;
    };
    const listed = Object.fromEntries(
      Object.entries(manifest.exports)
        .filter(([key]) => key !== './package.json')
        .map(([key, entry]) => [key, typeof entry === 'string' ? entry : entry.import]),
    );
    expect(listed).toEqual(
      Object.fromEntries(Object.entries(subpaths).map(([key, path]) => [key, `./dist/${path}.js`])),
    );
    for (const path of Object.values(subpaths)) expect(existsSync(new URL(`./${path}.ts`, import.meta.url))).toBe(true);
  });

  it('arms no fault points and shows no internals from the root', () => {
    for (const internal of [
      'armFaultPoints',
      'faultPointNames',
      'examples',
      'openSqliteEngine',
      'createScriptedModel',
    ]) {
      expect(Object.keys(root)).not.toContain(internal);
    }
  });
});
