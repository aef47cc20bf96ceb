/**
 * API keys in a PostgreSQL journal (`api_keys`, migration 6), shared by every `hataraku serve`
 * on it. The server answers `verify` and `findById` synchronously, from an in-memory mirror of
 * the rows (only SHA-256 of secrets, as in SQLite): loaded before the server listens, reloaded
 * when `hataraku keys create|revoke` notifies the `hataraku_api_keys` channel (LISTEN/NOTIFY,
 * usually milliseconds), and compared every `pollMs` (default 2 s) against a cheap summary of
 * the table as a fallback for a lost notification. So a key revoked on any machine is refused by
 * every server within `pollMs` plus one query. A server that cannot reach the database for
 * `staleAfterMs` (default 30 s) refuses every key until it can again, so the bound holds even
 * across a partition.
 */
import pg from 'pg';
import { createPool, describeUrl, isConnectionError } from '../../engine/postgres/connection.js';
import { applyMigrations } from '../../engine/postgres/migrations.js';
import { JournalError, UserError } from '../../errors.js';
import {
  type ApiKey,
  checkNewKey,
  duplicateKeyName,
  fromRow,
  idOf,
  type KeyRow,
  type KeyStore,
  keyPattern,
  mintKey,
  type NewApiKey,
  secretMatches,
} from './key-store.js';

/** The channel `create` and `revoke` notify, on commit. */
export const keysChannel = 'hataraku_api_keys';

/** Writing keys: what `hataraku keys` uses, asynchronous, over SQLite or PostgreSQL. */
export interface KeyAdmin {
  /** Create a key; the returned `secret` is the whole key, shown once and never stored. */
  create(key: NewApiKey): Promise<{ key: ApiKey; secret: string }>;
  list(): Promise<ApiKey[]>;
  /** Revoke by name or id; false when there is no such active key. */
  revoke(nameOrId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A summary that changes whenever a key is created, revoked or deleted. */
const summaryQuery = `SELECT count(*)::bigint AS total, count(revoked_at)::bigint AS revoked,
  coalesce(max(created_at), 0)::bigint AS created, coalesce(max(revoked_at), 0)::bigint AS last_revoked FROM api_keys`;

/** The admin API over the PostgreSQL journal at `url`, migrating it when needed. */
export function openPostgresKeyAdmin(options: { url: string; now?: () => number }): KeyAdmin {
  const now = options.now ?? Date.now;
  const pool = createPool({ url: options.url, size: 2, idleInTransactionMs: 60_000 });
  let migrated: Promise<void> | undefined;
  const migrate = () => {
    migrated ??= (async () => {
      const client = await pool.connect();
      try {
        await applyMigrations(client, describeUrl(options.url));
      } finally {
        client.release();
      }
    })();
    return migrated;
  };
  /** Run `action` in one durable transaction that notifies the servers on commit. */
  const transaction = async <T>(action: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    await migrate();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT set_config('synchronous_commit', 'on', true)");
      const result = await action(client);
      await client.query('SELECT pg_notify($1, $2)', [keysChannel, 'changed']);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    async create(key) {
      checkNewKey(key);
      const { row, secret } = mintKey(key, now());
      const inserted = await reaching(options.url, () =>
        transaction((client) =>
          client.query<KeyRow>(
            `INSERT INTO api_keys (id, name, tenant, secret_sha256, budget_day_usd, budget_month_usd,
             requests_per_minute, agents, models, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (name) DO NOTHING RETURNING *`,
            [
              row.id,
              row.name,
              row.tenant,
              row.secret_sha256,
              row.budget_day_usd,
              row.budget_month_usd,
              row.requests_per_minute,
              row.agents,
              row.models,
              row.created_at,
            ],
          ),
        ),
      );
      const stored = inserted.rows[0];
      if (!stored) throw duplicateKeyName(key.name);
      return { key: fromRow(stored), secret };
    },
    list: () =>
      reaching(options.url, async () => {
        await migrate();
        const result = await pool.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, name');
        return result.rows.map(fromRow);
      }),
    revoke: (nameOrId) =>
      reaching(options.url, () =>
        transaction(async (client) => {
          const revoked = await client.query<{ id: string }>(
            `UPDATE api_keys SET revoked_at = $1 WHERE (name = $2 OR id = $2 OR id = $3) AND revoked_at IS NULL
           RETURNING id`,
            [now(), nameOrId, idOf(nameOrId)],
          );
          // The key's console sessions end in the same commit, on every server at once.
          const ids = revoked.rows.map((row) => row.id);
          if (ids.length > 0) await client.query('DELETE FROM console_sessions WHERE key_id = ANY($1)', [ids]);
          return ids.length > 0;
        }),
      ),
    close: () => pool.end(),
  };
}

export interface PostgresKeyStoreOptions {
  url: string;
  /** How often the table is compared with the mirror, as a fallback for notifications (ms; default 2000). */
  pollMs?: number;
  /** Without a successful load or comparison for this long, every key is refused (ms; default 30,000). */
  staleAfterMs?: number;
  /** Where a failed refresh is reported (never with a secret: there is none to report). */
  log?: (line: string) => void;
  now?: () => number;
}

/**
 * The server's key store over a PostgreSQL journal: `verify` and `findById` from the mirror;
 * `list` from the mirror too; `create` and `revoke` are the admin API's (`openKeyAdmin`), and
 * throw here with a one-line error saying so.
 */
export function openPostgresKeyStore(options: PostgresKeyStoreOptions): KeyStore {
  const pollMs = options.pollMs ?? 2000;
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const pool = createPool({ url: options.url, size: 2, idleInTransactionMs: 60_000 });
  let rows = new Map<string, KeyRow>();
  let keys = new Map<string, ApiKey>();
  let summary = '';
  let freshAt = 0;
  let closed = false;
  let listener: pg.Client | undefined;

  const load = async () => {
    const client = await pool.connect();
    try {
      // Rows and summary from one snapshot, so a change between the two is seen on the next poll.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const loaded = await client.query<KeyRow>('SELECT * FROM api_keys');
      const counted = await client.query(summaryQuery);
      await client.query('COMMIT');
      rows = new Map(loaded.rows.map((row) => [row.id, row]));
      keys = new Map(loaded.rows.map((row) => [row.id, fromRow(row)]));
      summary = JSON.stringify(counted.rows[0]);
      freshAt = now();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  // One reload at a time; a request during one runs once more after it.
  let reloading: Promise<void> | undefined;
  let again = false;
  const reload = (): Promise<void> => {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again && !closed);
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  const listen = async () => {
    const client = new pg.Client({ connectionString: options.url, application_name: 'hataraku-keys' });
    const drop = () => {
      if (listener === client) listener = undefined;
      client.end().catch(() => {});
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', () => {
      reload().catch((error: unknown) => log(`reloading API keys failed: ${messageOf(error)}`));
    });
    await client.connect();
    await client.query(`LISTEN ${keysChannel}`);
    if (closed) {
      await client.end();
      return;
    }
    listener = client;
  };

  const poll = async () => {
    if (closed) return;
    try {
      // Listening again after the connection was lost; a change missed meanwhile shows in the summary.
      if (!listener) await listen();
      const counted = await pool.query(summaryQuery);
      if (JSON.stringify(counted.rows[0]) !== summary) await reload();
      else freshAt = now();
    } catch (error) {
      if (!closed) log(`refreshing API keys failed: ${messageOf(error)}`);
    }
  };

  const ready = reaching(options.url, async () => {
    const client = await pool.connect();
    try {
      await applyMigrations(client, describeUrl(options.url));
    } finally {
      client.release();
    }
    await listen();
    await load();
  });
  const timer = setInterval(() => void poll(), pollMs);
  timer.unref();
  const close = () => {
    closed = true;
    clearInterval(timer);
    listener?.end().catch(() => {});
    listener = undefined;
    void pool.end().catch(() => {});
  };
  // Never loaded: the store stays empty (every key refused) and stops trying; `ready` says why.
  ready.catch(close);

  const fresh = () => freshAt > 0 && now() - freshAt <= staleAfterMs;
  const adminOnly = () =>
    new UserError(
      'usage',
      'keys on a PostgreSQL journal are created and revoked with `hataraku keys create|revoke` (or openKeyAdmin).',
    );

  return {
    create() {
      throw adminOnly();
    },
    revoke() {
      throw adminOnly();
    },
    list: () => [...keys.values()].sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name)),
    verify(secret) {
      if (!fresh()) return undefined;
      const match = keyPattern.exec(secret);
      if (!match) return undefined;
      const row = rows.get(match[1] ?? '');
      if (!row || row.revoked_at !== null) return undefined;
      if (!secretMatches(row.secret_sha256, secret)) return undefined;
      return keys.get(row.id);
    },
    findById(id) {
      if (!fresh()) return undefined;
      return keys.get(id);
    },
    ready: () => ready,
    close() {
      if (!closed) close();
    },
  };
}

/** `action`, with the database out of reach said in one line (the URL without its password). */
async function reaching<T>(url: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    throw new JournalError(
      'journal_error',
      `cannot reach the PostgreSQL journal at ${describeUrl(url)} for the API keys (${messageOf(error)}); check that the server is up and journal.url or HATARAKU_DATABASE_URL.`,
      { cause: error },
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
