/**
 * The model-call cache in SQLite: a `model_cache` table in its own database file, or in a
 * database the caller already has open (the journal's, say). Expired rows are not served and
 * are removed when new entries are written.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type CachedModelCall, cachedResponseSchema, type ModelCallCache } from './model-call-cache.js';

/** Options of `openSqliteModelCallCache`: a database file to open, or an open database. */
export type SqliteModelCallCacheOptions = { path: string } | { database: Database.Database };

/** A SQLite cache store; `close()` closes the database only when the store opened it. */
export interface SqliteModelCallCache extends ModelCallCache {
  close(): void;
}

interface CacheRow {
  key: string;
  tenant: string | null;
  model: string;
  response: string;
  created_at: number;
  expires_at: number;
}

/** Open (creating when needed) the `model_cache` table. */
export function openSqliteModelCallCache(options: SqliteModelCallCacheOptions): SqliteModelCallCache {
  const ownsDatabase = 'path' in options;
  let database: Database.Database;
  if ('path' in options) {
    if (typeof options.path !== 'string' || options.path === '') {
      throw new TypeError('openSqliteModelCallCache: the path option must be a non-empty string.');
    }
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    database = new Database(options.path);
    database.pragma('journal_mode = WAL');
  } else {
    database = options.database;
  }
  database.exec(`
    CREATE TABLE IF NOT EXISTS model_cache (
      key TEXT PRIMARY KEY,
      tenant TEXT,
      model TEXT NOT NULL,
      response TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS model_cache_expires_at ON model_cache (expires_at);
    CREATE INDEX IF NOT EXISTS model_cache_tenant ON model_cache (tenant);
  `);
  const statements = {
    get: database.prepare<[string, number], CacheRow>('SELECT * FROM model_cache WHERE key = ? AND expires_at > ?'),
    put: database.prepare(
      `INSERT OR REPLACE INTO model_cache (key, tenant, model, response, created_at, expires_at)
       VALUES (@key, @tenant, @model, @response, @created_at, @expires_at)`,
    ),
    deleteKey: database.prepare('DELETE FROM model_cache WHERE key = ?'),
    deleteExpired: database.prepare('DELETE FROM model_cache WHERE expires_at <= ?'),
    clearAll: database.prepare('DELETE FROM model_cache'),
    clearTenant: database.prepare('DELETE FROM model_cache WHERE tenant = ?'),
    clearNoTenant: database.prepare('DELETE FROM model_cache WHERE tenant IS NULL'),
  };

  return {
    async get(key, now): Promise<CachedModelCall | undefined> {
      const row = statements.get.get(key, now);
      if (row === undefined) return undefined;
      let parsed: ReturnType<typeof cachedResponseSchema.safeParse>;
      try {
        parsed = cachedResponseSchema.safeParse(JSON.parse(row.response));
      } catch {
        parsed = cachedResponseSchema.safeParse(undefined);
      }
      if (!parsed.success) {
        // Written by another version or damaged: a miss, and out of the way of the fresh answer.
        statements.deleteKey.run(key);
        return undefined;
      }
      return {
        key: row.key,
        tenant: row.tenant ?? undefined,
        model: row.model,
        response: parsed.data,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
      };
    },
    async put(entry) {
      statements.deleteExpired.run(entry.createdAt);
      statements.put.run({
        key: entry.key,
        tenant: entry.tenant ?? null,
        model: entry.model,
        response: JSON.stringify(entry.response),
        created_at: entry.createdAt,
        expires_at: entry.expiresAt,
      });
    },
    async deleteExpired(now) {
      return statements.deleteExpired.run(now).changes;
    },
    async clear(tenant) {
      if (tenant === undefined) return statements.clearAll.run().changes;
      if (tenant === null) return statements.clearNoTenant.run().changes;
      return statements.clearTenant.run(tenant).changes;
    },
    close() {
      if (ownsDatabase) database.close();
    },
  };
}
