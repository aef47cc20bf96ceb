/**
 * Moving a journal from SQLite to PostgreSQL (`hataraku journal migrate --from sqlite --to
 * postgres`): every table copied row for row in one PostgreSQL transaction, so the target holds
 * either the whole journal or nothing, then counted on both sides. Open runs arrive with no
 * owner: the processes that held them used the SQLite file, and a worker on the new journal
 * takes them from the queue.
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';
import { JournalError, UserError } from '../../errors.js';
import { engineSchemaVersion } from '../engine.js';
import { describeUrl } from './connection.js';
import { openPostgresEngine } from './postgres-engine.js';

/** Tables in the order they are copied (runs before the rows that refer to them), and their columns. */
interface CopiedTable {
  name: string;
  columns: string[];
  order: string;
  /** Made by the server when it first runs (src/server/keys), so a journal may lack it. */
  optional?: boolean;
}

const tables: ReadonlyArray<CopiedTable> = [
  {
    name: 'runs',
    columns: [
      'id',
      'agent_name',
      'model',
      'input',
      'spec',
      'status',
      'stop_reason',
      'output',
      'error',
      'workspace',
      'tenant',
      'parent_run_id',
      'created_at',
      'updated_at',
    ],
    order: 'rowid',
  },
  {
    name: 'steps',
    columns: [
      'run_id',
      'step_index',
      'name',
      'kind',
      'request_digest',
      'output',
      'model',
      'input_tokens',
      'output_tokens',
      'cached_input_tokens',
      'cache_write_tokens',
      'cost_usd',
      'started_at',
      'finished_at',
    ],
    order: 'run_id, step_index',
  },
  {
    name: 'ledger',
    columns: [
      'run_id',
      'step_index',
      'model',
      'input_tokens',
      'output_tokens',
      'cached_input_tokens',
      'cache_write_tokens',
      'cost_usd',
      'at',
    ],
    order: 'run_id, step_index, model',
  },
  {
    name: 'budget_reservations',
    columns: ['id', 'reservation_id', 'run_id', 'step_index', 'scope', 'scope_key', 'amount_usd', 'expires_at'],
    order: 'id',
  },
  {
    name: 'artifacts',
    columns: ['run_id', 'path', 'step_index', 'media_type', 'description', 'created_at'],
    order: 'run_id, path',
  },
  {
    name: 'approvals',
    columns: [
      'run_id',
      'step_index',
      'tool_name',
      'input',
      'input_digest',
      'reason',
      'status',
      'deadline',
      'default_outcome',
      'decided_by',
      'decided_at',
      'note',
      'requested_at',
    ],
    order: 'run_id, step_index',
  },
  {
    name: 'audit',
    columns: [
      'id',
      'run_id',
      'step_index',
      'action',
      'actor',
      'at',
      'tool_name',
      'input_digest',
      'cost_usd_so_far',
      'note',
    ],
    order: 'id',
  },
  {
    name: 'feedback',
    columns: ['run_id', 'solved', 'note', 'actor', 'at'],
    order: 'run_id',
  },
  {
    // Hashes only, as in SQLite: a key keeps working, and a revoked one stays revoked.
    name: 'api_keys',
    columns: [
      'id',
      'name',
      'tenant',
      'secret_sha256',
      'budget_day_usd',
      'budget_month_usd',
      'requests_per_minute',
      'agents',
      'models',
      'created_at',
      'revoked_at',
    ],
    order: 'created_at, id',
    optional: true,
  },
];

/** Column types in PostgreSQL, for reading rows back out of JSON. */
const columnTypes: Record<string, string> = {
  step_index: 'integer',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  cached_input_tokens: 'bigint',
  cache_write_tokens: 'bigint',
  cost_usd: 'double precision',
  amount_usd: 'double precision',
  cost_usd_so_far: 'double precision',
  created_at: 'bigint',
  updated_at: 'bigint',
  started_at: 'bigint',
  finished_at: 'bigint',
  at: 'bigint',
  expires_at: 'bigint',
  deadline: 'bigint',
  decided_at: 'bigint',
  requested_at: 'bigint',
  // SQLite's 0 or 1; PostgreSQL's boolean input reads both.
  solved: 'boolean',
  budget_day_usd: 'double precision',
  budget_month_usd: 'double precision',
  requests_per_minute: 'integer',
  revoked_at: 'bigint',
};

export interface CopyReport {
  /** Rows copied, by table. */
  rows: Record<string, number>;
  /** Runs that were open (pending or waiting), now in the queue of the new journal. */
  openRuns: number;
}

const batchSize = 500;

export async function copySqliteJournalToPostgres(options: { sqlitePath: string; url: string }): Promise<CopyReport> {
  const where = describeUrl(options.url);
  let source: Database.Database;
  try {
    source = new Database(options.sqlitePath, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new UserError(
      'usage',
      `cannot open the SQLite journal at ${options.sqlitePath}: ${(error as Error).message}; name it with --sqlite PATH.`,
    );
  }
  try {
    const version = Number(
      (source.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined)
        ?.value ?? 0,
    );
    if (version !== engineSchemaVersion) {
      throw new UserError(
        'usage',
        `the SQLite journal at ${options.sqlitePath} has schema version ${version}; this Hataraku migrates version ${engineSchemaVersion}. Open it once with this version first.`,
      );
    }
    const live = (source.prepare('SELECT id, pid, host FROM executors').all() as Array<{ pid: number; host: string }>)
      .filter((executor) => executor.host === hostname() && processIsAlive(executor.pid))
      .map((executor) => executor.pid);
    if (live.length > 0) {
      throw new UserError(
        'usage',
        `processes ${live.join(', ')} are using the SQLite journal at ${options.sqlitePath}; stop them (and any worker) before migrating, so no step is written after the copy.`,
      );
    }

    // Opening an engine applies the migrations; it is closed before the copy starts.
    const engine = openPostgresEngine({ url: options.url, heartbeatMs: 0, poolSize: 1 });
    await engine.listRuns({ limit: 1 });
    await engine.close();

    const client = new pg.Client({ connectionString: options.url, application_name: 'hataraku-migrate' });
    await client.connect();
    try {
      const existing = Number(
        ((await client.query('SELECT COUNT(*) AS count FROM runs')).rows[0] as { count: string }).count,
      );
      if (existing > 0) {
        throw new UserError(
          'usage',
          `the PostgreSQL journal at ${where} already holds ${existing} runs; migrate into an empty database.`,
        );
      }
      const rows: Record<string, number> = {};
      await client.query('BEGIN');
      try {
        for (const table of tables) {
          rows[table.name] = await copyTable(source, client, table);
        }
        await client.query(
          "SELECT setval(pg_get_serial_sequence('audit', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM audit",
        );
        // Verify before committing: every table holds exactly what the file holds.
        for (const table of tables) {
          const copied = Number(
            ((await client.query(`SELECT COUNT(*) AS count FROM ${table.name}`)).rows[0] as { count: string }).count,
          );
          if (copied !== rows[table.name]) {
            throw new JournalError(
              'journal_error',
              `journal migrate: ${table.name} has ${copied} rows in PostgreSQL but ${rows[table.name]} in SQLite; nothing was committed.`,
            );
          }
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
      const openRuns = (
        source.prepare("SELECT COUNT(*) AS count FROM runs WHERE status IN ('pending', 'waiting')").get() as {
          count: number;
        }
      ).count;
      return { rows, openRuns };
    } finally {
      await client.end();
    }
  } finally {
    source.close();
  }
}

async function copyTable(source: Database.Database, client: pg.Client, table: CopiedTable): Promise<number> {
  if (
    table.optional &&
    source.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table.name) === undefined
  ) {
    return 0;
  }
  const select = source.prepare(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY ${table.order}`);
  const typeOf = (column: string) =>
    table.name === 'audit' && column === 'id' ? 'bigint' : (columnTypes[column] ?? 'text');
  const definitions = table.columns.map((column) => `${column} ${typeOf(column)}`).join(', ');
  const insert = `INSERT INTO ${table.name} (${table.columns.join(', ')})
    SELECT ${table.columns.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS source(${definitions})`;
  let count = 0;
  let batch: unknown[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await client.query(insert, [JSON.stringify(batch)]);
    count += batch.length;
    batch = [];
  };
  for (const row of select.iterate()) {
    batch.push(row);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return count;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
