/**
 * The two journals stay one format: the tables and columns that the PostgreSQL migrations build
 * are those of the SQLite schema (read back from a real SQLite database), but for what
 * migrations.ts documents as PostgreSQL's own. The DDL itself is written twice on purpose: the
 * types differ, and an applied migration's text must never change.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openKeyStore } from '../../server/keys/key-store.js';
import { migrate } from '../sqlite/schema.js';
import { migrations } from './migrations.js';

/** PostgreSQL's own columns: the lease fence and the list order of runs. */
const postgresOnlyColumns: Record<string, string[]> = { runs: ['lease_epoch', 'seq'] };
/** PostgreSQL's own tables: the model-call cache shared by workers (on SQLite, src/cache keeps it). */
const postgresOnlyTables = ['model_cache'];

/** Tables and their columns after every migration, read from the statements' text. */
function postgresTables(): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  for (const migration of migrations) {
    for (const [, name = '', body = ''] of migration.sql.matchAll(/CREATE TABLE (\w+) \(\n([\s\S]*?)\n\);/g)) {
      const columns = body
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[0] ?? '')
        .filter((word) => word !== '' && !['PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN'].includes(word));
      tables.set(name, columns);
    }
    for (const [, name = '', column = ''] of migration.sql.matchAll(/ALTER TABLE (\w+) ADD COLUMN (\w+)/g)) {
      tables.get(name)?.push(column);
    }
  }
  return tables;
}

function sqliteTables(): Map<string, string[]> {
  const database = new Database(':memory:');
  try {
    migrate(database, ':memory:');
    // The API keys' table is created by their store, in the same file.
    openKeyStore({ connection: database }).close();
    const names = database
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((row) => row.name);
    return new Map(
      names.map((name) => [
        name,
        database
          .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name}')`)
          .all()
          .map((row) => row.name),
      ]),
    );
  } finally {
    database.close();
  }
}

describe('the PostgreSQL migrations and the SQLite schema', () => {
  it('declare the same tables and columns, but for those PostgreSQL documents as its own', () => {
    const postgres = postgresTables();
    const sqlite = sqliteTables();
    expect([...postgres.keys()].filter((name) => !postgresOnlyTables.includes(name)).sort()).toEqual(
      [...sqlite.keys()].sort(),
    );
    for (const [name, columns] of sqlite) {
      const own = postgresOnlyColumns[name] ?? [];
      const mirrored = (postgres.get(name) ?? []).filter((column) => !own.includes(column));
      expect(mirrored.sort(), name).toEqual([...columns].sort());
    }
  });
});
