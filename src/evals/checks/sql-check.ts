/**
 * A SQL assertion on the run's output files, e.g. `SELECT count(*) = 12 FROM 'monthly.csv'`:
 * it passes when the first value of the first row is true (or a non-zero number). It runs in the
 * same confined DuckDB session the data tools use: only files inside the workspace can be read,
 * no network, no extensions to install.
 */

import { createCallFiles } from '../../toolchain/data/call-files.js';
import { openDuckDBSession } from '../../toolchain/data/duckdb-session.js';
import { scanSql } from '../../toolchain/data/sql-file-references.js';
import { workspaceAccess } from '../../toolchain/files/workspace-access.js';
import type { EvalCheck } from '../suite-schema.js';
import type { CheckResult } from './check-result.js';

export async function sqlCheck(check: Extract<EvalCheck, { sql: string }>, workspace: string): Promise<CheckResult> {
  const name = check.name ?? `sql ${check.sql.replace(/\s+/g, ' ').slice(0, 60)}`;
  const verdict = (passed: boolean, detail: string): CheckResult => ({
    kind: 'sql',
    name,
    passed,
    detail,
    modelGraded: false,
    skipped: false,
  });
  let session: Awaited<ReturnType<typeof openDuckDBSession>> | undefined;
  let files: ReturnType<typeof createCallFiles> | undefined;
  try {
    const access = workspaceAccess(workspace);
    session = await openDuckDBSession(access.root, { memoryLimit: '256MB', threads: 1, maxTempDirectorySize: '1GB' });
    const callFiles = createCallFiles(access, session.scratchDirectory());
    files = callFiles;
    // Files are opened and checked here, and DuckDB gets only their descriptors (read-only).
    const scanned = scanSql(check.sql, (reference) => callFiles.resolve(reference, 'read'));
    const opened = await session.connect({
      allowedPaths: callFiles.allowedPaths(),
      allowedDirectory: callFiles.scratchDirectory,
      persistent: false,
    });
    try {
      const reader = await opened.connection.runAndReadAll(scanned.sql);
      const value = reader.getRows()[0]?.[0];
      const passed =
        value === true || (typeof value === 'number' && value !== 0) || (typeof value === 'bigint' && value !== 0n);
      return verdict(passed, `the query returned ${value === undefined ? 'no rows' : String(value)}`);
    } finally {
      opened.close();
    }
  } catch (error) {
    return verdict(
      false,
      `the query failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
    );
  } finally {
    files?.close();
    session?.dispose();
  }
}
