/**
 * API keys of the server, kept in an `api_keys` table of the journal's SQLite file. A key is
 * shown once, when it is created; only its SHA-256 is stored. Each key is bound to a tenant
 * (runs and gateway calls made with it are recorded under that tenant), may carry budgets
 * (USD per UTC day and per UTC month, counted on the tenant's ledger), a rate limit, and the
 * agents and models it may use.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UserError } from '../../errors.js';
import { connectJournalFile, type JournalFile } from '../journal-file.js';

const keysSchema = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL,
  budget_day_usd REAL,
  budget_month_usd REAL,
  requests_per_minute INTEGER,
  agents TEXT,
  models TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
`;

/** What a key may do. Undefined lists allow everything. */
export interface ApiKey {
  /** Public id, part of the key (`hk_<id>_<secret>`). */
  id: string;
  /** A unique name, recorded as the actor of the key's approvals (`key:<name>`). */
  name: string;
  tenant: string;
  budgetDayUsd: number | undefined;
  budgetMonthUsd: number | undefined;
  requestsPerMinute: number | undefined;
  /** Agent names the key may run; undefined: every agent. */
  agents: string[] | undefined;
  /** Model and route names the key may call through the gateway; undefined: every model. */
  models: string[] | undefined;
  createdAt: number;
  revokedAt: number | undefined;
}

export interface NewApiKey {
  name: string;
  tenant: string;
  budgetDayUsd?: number | undefined;
  budgetMonthUsd?: number | undefined;
  requestsPerMinute?: number | undefined;
  agents?: string[] | undefined;
  models?: string[] | undefined;
}

export interface KeyStore {
  /** Create a key; the returned `secret` is the whole key, shown once and never stored. */
  create(key: NewApiKey): { key: ApiKey; secret: string };
  list(): ApiKey[];
  /** Revoke by name or id; false when there is no such active key. */
  revoke(nameOrId: string): boolean;
  /** The active key a presented secret belongs to, or undefined. */
  verify(secret: string): ApiKey | undefined;
  /**
   * The key with this public id, revoked or not (see `revokedAt`), or undefined when this store
   * has none: how a console session, which keeps the key's id and never the key, is checked
   * again on each request.
   */
  findById(id: string): ApiKey | undefined;
  /**
   * Settles once `verify` and `findById` answer from the whole store: at once for SQLite; once
   * the key rows are loaded for PostgreSQL (`openPostgresKeyStore`). Rejects when they cannot be.
   */
  ready(): Promise<void>;
  close(): void;
}

/** A row of `api_keys`, in SQLite and in PostgreSQL alike. */
export interface KeyRow {
  id: string;
  name: string;
  tenant: string;
  secret_sha256: string;
  budget_day_usd: number | null;
  budget_month_usd: number | null;
  requests_per_minute: number | null;
  agents: string | null;
  models: string | null;
  created_at: number;
  revoked_at: number | null;
}

/** The shape of a key: `hk_<16 hex id>_<43 base64url characters>`. */
export const keyPattern = /^hk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Refuse a malformed name or an empty tenant, with a one-line error saying what to do. */
export function checkNewKey(key: NewApiKey): void {
  if (!namePattern.test(key.name)) {
    throw new UserError(
      'usage',
      `a key name must be 1-64 letters, digits, ".", "_" or "-" (got ${JSON.stringify(key.name)}).`,
    );
  }
  if (key.tenant.trim() === '') throw new UserError('usage', 'a key needs a tenant, e.g. --tenant acme.');
}

/** The error for a name already taken. */
export function duplicateKeyName(name: string): UserError {
  return new UserError('usage', `a key named "${name}" already exists; choose another name.`);
}

/** A new key's row (only the secret's SHA-256) and the secret itself, to be shown once. */
export function mintKey(key: NewApiKey, createdAt: number): { row: KeyRow; secret: string } {
  const id = randomBytes(8).toString('hex');
  const secret = `hk_${id}_${randomBytes(32).toString('base64url')}`;
  return {
    secret,
    row: {
      id,
      name: key.name,
      tenant: key.tenant,
      secret_sha256: sha256(secret),
      budget_day_usd: key.budgetDayUsd ?? null,
      budget_month_usd: key.budgetMonthUsd ?? null,
      requests_per_minute: key.requestsPerMinute ?? null,
      agents: key.agents ? JSON.stringify(key.agents) : null,
      models: key.models ? JSON.stringify(key.models) : null,
      created_at: createdAt,
      revoked_at: null,
    },
  };
}

/** Whether `secret` is the key whose stored SHA-256 is `secretSha256` (in constant time). */
export function secretMatches(secretSha256: string, secret: string): boolean {
  const expected = Buffer.from(secretSha256, 'hex');
  const given = Buffer.from(sha256(secret), 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The id a revocation names: `hk_<id>` or the id itself (names are matched as given). */
export function idOf(nameOrId: string): string {
  return nameOrId.startsWith('hk_') ? nameOrId.slice(3) : nameOrId;
}

/**
 * Open the key table, creating it when missing: in the SQLite file at `path` (the journal's
 * file) over a connection of its own, or over `connection`, an open connection to that file
 * that someone else owns (the SQLite journal's: see `sqliteConnectionOf`), which `close` leaves
 * open.
 */
export function openKeyStore(options: JournalFile & { now?: () => number }): KeyStore {
  const now = options.now ?? Date.now;
  const { database, owned } = connectJournalFile(options);
  database.exec(keysSchema);
  const statements = {
    insert: database.prepare(
      `INSERT INTO api_keys (id, name, tenant, secret_sha256, budget_day_usd, budget_month_usd, requests_per_minute,
         agents, models, created_at)
       VALUES (@id, @name, @tenant, @secret_sha256, @budget_day_usd, @budget_month_usd, @requests_per_minute,
         @agents, @models, @created_at)`,
    ),
    byName: database.prepare('SELECT * FROM api_keys WHERE name = ?'),
    byId: database.prepare('SELECT * FROM api_keys WHERE id = ?'),
    list: database.prepare('SELECT * FROM api_keys ORDER BY created_at, name'),
    revoke: database.prepare(
      'UPDATE api_keys SET revoked_at = ? WHERE (name = ? OR id = ? OR id = ?) AND revoked_at IS NULL',
    ),
    // Changes whenever another connection (another process, or the journal's own connection in
    // this one) commits to the file; this connection's own commits are seen by `revoke` below.
    dataVersion: database.prepare('PRAGMA data_version').pluck(),
  };
  // Keys verified since the file last changed, by the secret presented: a busy key costs one
  // small query per request instead of a lookup and a SHA-256. Any commit to the file by another
  // connection (a `hataraku keys revoke`, a ledger write) or a revocation here empties it, so a
  // revoked key is refused from the next request on.
  const verified = new Map<string, ApiKey>();
  let verifiedAtVersion: unknown;

  return {
    create(key) {
      checkNewKey(key);
      if (statements.byName.get(key.name)) throw duplicateKeyName(key.name);
      const { row, secret } = mintKey(key, now());
      const { revoked_at: _revokedAt, ...inserted } = row;
      statements.insert.run(inserted);
      return { key: fromRow(statements.byId.get(row.id) as KeyRow), secret };
    },
    list: () => (statements.list.all() as KeyRow[]).map(fromRow),
    revoke(nameOrId) {
      const revoked = statements.revoke.run(now(), nameOrId, nameOrId, idOf(nameOrId)).changes > 0;
      verified.clear();
      return revoked;
    },
    verify(secret) {
      const version = statements.dataVersion.get();
      if (version !== verifiedAtVersion) {
        verified.clear();
        verifiedAtVersion = version;
      }
      const known = verified.get(secret);
      if (known) return known;
      const match = keyPattern.exec(secret);
      if (!match) return undefined;
      const row = statements.byId.get(match[1]) as KeyRow | undefined;
      if (!row || row.revoked_at !== null) return undefined;
      if (!secretMatches(row.secret_sha256, secret)) return undefined;
      const key = fromRow(row);
      if (verified.size >= 10_000) verified.clear();
      verified.set(secret, key);
      return key;
    },
    findById(id) {
      const row = statements.byId.get(id) as KeyRow | undefined;
      return row === undefined ? undefined : fromRow(row);
    },
    ready: () => Promise.resolve(),
    close() {
      if (owned) database.close();
    },
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A key as the server sees it, from its row. */
export function fromRow(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    budgetDayUsd: row.budget_day_usd ?? undefined,
    budgetMonthUsd: row.budget_month_usd ?? undefined,
    requestsPerMinute: row.requests_per_minute ?? undefined,
    agents: row.agents === null ? undefined : (JSON.parse(row.agents) as string[]),
    models: row.models === null ? undefined : (JSON.parse(row.models) as string[]),
    createdAt: row.created_at,
    revokedAt: row.revoked_at ?? undefined,
  };
}

/** Whether a key's allow-list (undefined: everything; `*` and `prefix*` patterns) admits `name`. */
export function keyAllows(list: string[] | undefined, name: string): boolean {
  if (list === undefined) return true;
  return list.some((pattern) => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name));
}
