/**
 * `hataraku journal migrate --from sqlite --to postgres`: move the journal (runs, steps, the
 * cost ledger, approvals and audit, artifacts, budget reservations) from the SQLite file into
 * an empty PostgreSQL database, in one transaction. Afterwards set `journal.url` (or
 * `HATARAKU_DATABASE_URL`) and start workers on the new journal.
 */
import { isPostgresUrl } from '../../engine/postgres/connection.js';
import { copySqliteJournalToPostgres } from '../../engine/postgres/copy-from-sqlite.js';
import { UserError } from '../../errors.js';
import { type CliIo, openHataraku } from '../cli-context.js';

export interface JournalMigrateFlags {
  from: string;
  to: string;
  /** The SQLite file (default: the configured journal path). */
  sqlite?: string;
  /** The PostgreSQL URL (default: `HATARAKU_DATABASE_URL`, else the config's `journal.url`). */
  url?: string;
  json?: boolean;
  config?: string;
}

export async function journalMigrateCommand(flags: JournalMigrateFlags, io: CliIo): Promise<number> {
  if (flags.from !== 'sqlite' || flags.to !== 'postgres') {
    throw new UserError(
      'usage',
      `journal migrate moves a journal from sqlite to postgres (got --from ${flags.from} --to ${flags.to}); use --from sqlite --to postgres.`,
    );
  }
  const hataraku = openHataraku(io, flags.config);
  try {
    const url = flags.url ?? hataraku.config.journal.url;
    if (!url) {
      throw new UserError(
        'usage',
        'journal migrate needs the PostgreSQL database: pass --url postgres://user@host:5432/hataraku, or set HATARAKU_DATABASE_URL.',
      );
    }
    if (!isPostgresUrl(url)) {
      throw new UserError('usage', '--url must be a PostgreSQL URL such as postgres://user@host:5432/hataraku.');
    }
    const sqlitePath = flags.sqlite ?? hataraku.config.journal.path;
    const report = await copySqliteJournalToPostgres({ sqlitePath, url });
    if (flags.json) {
      io.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const counts = Object.entries(report.rows)
        .map(([table, count]) => `${count} ${table}`)
        .join(', ');
      io.stdout.write(`Copied ${sqlitePath} to PostgreSQL: ${counts}.\n`);
      if (report.openRuns > 0) {
        io.stdout.write(
          `${report.openRuns} open runs are queued there; \`hataraku worker\` on the new journal takes them.\n`,
        );
      }
      io.stdout.write('Set journal.url in hataraku.config.json (or HATARAKU_DATABASE_URL) to use it.\n');
    }
    return 0;
  } finally {
    await hataraku.close();
  }
}
