import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from './load-suite.js';

function suiteFile(name: string, text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-suite-'));
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

describe('loadSuite', () => {
  it('reads YAML and JSON suites into the same shape', () => {
    const yaml = loadSuite(
      suiteFile('s.yaml', 'name: s\ntasks:\n  - id: one\n    input: say hi\n    checks:\n      - regex: hi\n'),
    );
    const json = loadSuite(
      suiteFile(
        's.json',
        JSON.stringify({ name: 's', tasks: [{ id: 'one', input: 'say hi', checks: [{ regex: 'hi' }] }] }),
      ),
    );
    expect(yaml.suite).toEqual(json.suite);
  });

  it.each([
    [
      'a check of no known kind',
      'name: s\ntasks:\n  - id: one\n    input: x\n    checks:\n      - smell: good\n',
      /tasks\.0\.checks\.0: a check with one of: exact, regex/,
    ],
    [
      'a task without input',
      'name: s\ntasks:\n  - id: one\n    checks:\n      - regex: x\n',
      /tasks\.0: a task needs "input"/,
    ],
    [
      'an invalid regular expression',
      'name: s\ntasks:\n  - id: one\n    input: x\n    checks:\n      - regex: "("\n',
      /tasks\.0\.checks\.0: "\(" is not a valid regular expression/,
    ],
    [
      'a duplicated task id',
      'name: s\ntasks:\n  - id: one\n    input: x\n    checks: [{ regex: x }]\n  - id: one\n    input: y\n    checks: [{ regex: y }]\n',
      /tasks\.1\.id: "one" is used twice/,
    ],
    [
      'an unknown example',
      'name: s\ntasks:\n  - id: one\n    example: nope\n    checks: [{ regex: x }]\n',
      /no example named "nope"/,
    ],
    [
      'a missing workspace folder',
      'name: s\ntasks:\n  - id: one\n    input: x\n    workspace: nowhere\n    checks: [{ regex: x }]\n',
      /tasks\.0\.workspace: nowhere does not exist/,
    ],
    ['YAML that does not parse', 'name: s\ntasks: [\n', /does not parse/],
  ])('rejects %s with a one-line message naming the place', (_, text, message) => {
    const path = suiteFile('bad.yaml', text);
    expect(() => loadSuite(path)).toThrow(message);
    try {
      loadSuite(path);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
