/**
 * The server's own tables (API keys, run events) in the journal's SQLite file go through the
 * journal's connection: the file is open once, what the server writes there the CLI's own
 * connection reads, and closing the server leaves the journal's connection to the engine. A
 * journal elsewhere (or in memory, or on PostgreSQL) lends nothing: the server opens the file.
 */
import { existsSync, mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../agent/events.js';
import { openSqliteEngine, sqliteConnectionOf } from '../engine/sqlite/sqlite-engine.js';
import { createHataraku, type Hataraku } from '../hataraku.js';
import { openEventLog } from './event-log.js';
import { openKeyStore } from './keys/key-store.js';
import { createServer } from './server.js';

const opened: Hataraku[] = [];
afterEach(async () => {
  for (const hataraku of opened.splice(0)) await hataraku.close();
});

/** How many of this process's file descriptors are open on `path` (Linux). */
function descriptorsOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

function project(): Hataraku {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-journal-connection-'));
  writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify({}));
  const hataraku = createHataraku({ cwd, env: {} });
  opened.push(hataraku);
  return hataraku;
}

describe("the server's tables in the SQLite journal", () => {
  it.skipIf(!existsSync('/proc/self/fd'))(
    'use the journal’s connection: the file is open once, and stays open for the engine after the server closes',
    async () => {
      const hataraku = project();
      const path = hataraku.config.journal.path;
      const server = createServer({ hataraku, recoverIntervalMs: 0, log: () => {} });
      expect(descriptorsOn(path)).toBe(1);

      const { secret } = server.keys.create({ name: 'ops', tenant: 'acme' });
      const event: RunEvent = { type: 'text-delta', runId: 'run_a', stepIndex: 0, delta: 'hi' };
      expect(server.events.append(event)).toBe(1);
      // What the CLI reads over its own connection.
      const cli = openKeyStore({ path });
      const cliEvents = openEventLog({ path });
      try {
        expect(cli.verify(secret)).toMatchObject({ name: 'ops' });
        expect(cliEvents.since('run_a', 0)).toEqual([{ seq: 1, event }]);
      } finally {
        cli.close();
        cliEvents.close();
      }

      // The descriptors are not counted again: SQLite keeps a closed connection's descriptor open
      // while another connection of the process holds locks on the file.
      await server.close();
      expect(await hataraku.engine.listRuns()).toEqual([]);
    },
  );

  it('lends no connection when the engine journals elsewhere', async () => {
    const hataraku = project();
    const path = hataraku.config.journal.path;
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-other-')), 'other.db') });
    const memory = openSqliteEngine({ path: ':memory:' });
    try {
      expect(sqliteConnectionOf(hataraku.engine, path)).toBeDefined();
      expect(sqliteConnectionOf(engine, path)).toBeUndefined();
      expect(sqliteConnectionOf(memory, ':memory:')).toBeUndefined();
    } finally {
      await engine.close();
      await memory.close();
    }
    await hataraku.engine.close();
    expect(sqliteConnectionOf(hataraku.engine, path)).toBeUndefined();
  });
});
