/**
 * The model-call cache in the PostgreSQL journal's database (`model_cache`, migration 2), so
 * every worker on every machine shares one cache: an answer paid for by one worker is a hit for
 * all. Same contract as the SQLite store; expired rows are not served and are removed when new
 * entries are written.
 */

import { createPool, describeUrl } from '../engine/postgres/connection.js';
import { applyMigrations } from '../engine/postgres/migrations.js';
import { JournalError } from '../errors.js';
import { type CachedModelCall, cachedResponseSchema, type ModelCallCache } from './model-call-cache.js';

export interface PostgresModelCallCache extends ModelCallCache {
  close(): Promise<void>;
}

interface CacheRow {
  key: string;
  tenant: string | null;
  model: string;
  response: string;
  created_at: number;
  expires_at: number;
}

export function openPostgresModelCallCache(options: { url: string }): PostgresModelCallCache {
  const pool = createPool({ url: options.url, size: 2, idleInTransactionMs: 30_000 });
  const ready = (async () => {
    const client = await pool.connect();
    try {
      await applyMigrations(client, describeUrl(options.url));
    } finally {
      client.release();
    }
  })().catch((error: unknown) => {
    throw error instanceof JournalError
      ? error
      : new JournalError(
          'journal_error',
          `cannot open the model-call cache at ${describeUrl(options.url)}: ${(error as Error).message}`,
          { cause: error },
        );
  });
  ready.catch(() => {});

  async function query<T>(text: string, values: unknown[]): Promise<{ rows: T[]; rowCount: number }> {
    await ready;
    const result = await pool.query(text, values);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  }

  return {
    async get(key, now): Promise<CachedModelCall | undefined> {
      const [row] = (await query<CacheRow>('SELECT * FROM model_cache WHERE key = $1 AND expires_at > $2', [key, now]))
        .rows;
      if (row === undefined) return undefined;
      let parsed: ReturnType<typeof cachedResponseSchema.safeParse>;
      try {
        parsed = cachedResponseSchema.safeParse(JSON.parse(row.response));
      } catch {
        parsed = cachedResponseSchema.safeParse(undefined);
      }
      if (!parsed.success) {
        // Written by another version or damaged: a miss, and out of the way of the fresh answer.
        await query('DELETE FROM model_cache WHERE key = $1', [key]);
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
      await query('DELETE FROM model_cache WHERE expires_at <= $1', [entry.createdAt]);
      await query(
        `INSERT INTO model_cache (key, tenant, model, response, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (key) DO UPDATE SET tenant = excluded.tenant, model = excluded.model, response = excluded.response,
           created_at = excluded.created_at, expires_at = excluded.expires_at`,
        [
          entry.key,
          entry.tenant ?? null,
          entry.model,
          JSON.stringify(entry.response),
          entry.createdAt,
          entry.expiresAt,
        ],
      );
    },
    async deleteExpired(now) {
      return (await query('DELETE FROM model_cache WHERE expires_at <= $1', [now])).rowCount;
    },
    async clear(tenant) {
      if (tenant === undefined) return (await query('DELETE FROM model_cache', [])).rowCount;
      if (tenant === null) return (await query('DELETE FROM model_cache WHERE tenant IS NULL', [])).rowCount;
      return (await query('DELETE FROM model_cache WHERE tenant = $1', [tenant])).rowCount;
    },
    async close() {
      await ready.catch(() => {});
      await pool.end();
    },
  };
}
