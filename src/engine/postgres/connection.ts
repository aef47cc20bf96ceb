/**
 * Connecting to PostgreSQL: the pool, how numbers come back, which errors mean the connection
 * (not the statement) failed and are worth a retry, and a URL safe to print.
 */
import pg from 'pg';

/** BIGINT (int8) and NUMERIC (sums of BIGINT) come back as JavaScript numbers: times, tokens, counts. */
const numberTypes = new Set([20, 1700]);
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    numberTypes.has(oid)
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PoolSettings {
  url: string;
  /** Most connections this process opens (default 10). */
  size?: number | undefined;
  /**
   * The server aborts a transaction this process leaves open and idle for longer (ms): a process
   * paused or hung in a transaction must not hold a run's row locked past its lease.
   */
  idleInTransactionMs: number;
}

/**
 * A pool whose sessions commit asynchronously by default (`synchronous_commit = off`): a commit
 * is in the server's WAL buffers when it returns, and on disk once a later durable commit (which
 * sets `synchronous_commit = on` for its own transaction) has flushed the WAL past it.
 */
export function createPool(settings: PoolSettings): pg.Pool {
  const pool = new pg.Pool({
    connectionString: settings.url,
    max: settings.size ?? 10,
    application_name: 'hataraku',
    options: `-c synchronous_commit=off -c idle_in_transaction_session_timeout=${Math.ceil(settings.idleInTransactionMs)}`,
    types: typeParsers,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection the server closed (a restart, pg_terminate_backend): the pool drops it
  // and opens another on the next query; nothing to do here but not crash.
  pool.on('error', () => {});
  return pool;
}

const connectionErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  // Class 08 (connection exception) and 57P (operator intervention: shutdown, restart, crash).
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
]);

/** Whether an error is the connection or the server going away, so the operation may be retried. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && connectionErrorCodes.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed/i.test(
    message,
  );
}

/** The URL without its password, for messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured PostgreSQL URL';
  }
}

/** Whether a journal location is a PostgreSQL URL rather than a file path. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}
