/**
 * On Node 20, some ways of building an object (a spread followed by a new field, an
 * `AbortSignal`) give each object a hidden class of its own. Made on every call, those classes
 * fill old space and make every young collection promote what they point to: the gateway's
 * pauses grew from about 0.5 ms to 2 ms (`plain-abort.ts`, `copy-with.ts`). This test runs the
 * built gateway under `node --log-maps` and counts the classes V8 makes while relayed calls go
 * through, once warmed up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./__fixtures__/relay-hidden-classes.mjs', import.meta.url));

describe('the relay on a warm server', () => {
  it('makes no hidden class per call', () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-maps-'));
    const log = join(directory, 'v8.log');
    const measured = 1000;
    const run = spawnSync(
      process.execPath,
      ['--log-maps', `--logfile=${log}`, '--no-logfile-per-isolate', fixture, directory, String(measured)],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = readFileSync(log, 'latin1').split('\n');
    const start = lines.findIndex((line) => line.startsWith('map,') && line.endsWith(',hataraku_measured_calls_start'));
    const end = lines.findIndex((line) => line.startsWith('map,') && line.endsWith(',hataraku_measured_calls_end'));
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const made = lines.slice(start + 1, end).filter((line) => line.startsWith('map,'));
    // Where they were made, to read when this fails: the event and the field added.
    const sites = made.map((line) => {
      const fields = line.split(',');
      return `${fields[1]} ${fields.at(-1)}`;
    });
    // A few dozen appear whatever the load (a new socket's options, a timer list); one per call would be 1,000.
    expect(sites.length, sites.join('\n')).toBeLessThan(measured / 10);
  }, 90_000);
});
