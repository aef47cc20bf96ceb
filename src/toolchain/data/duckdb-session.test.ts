import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDuckDBSession } from './duckdb-session.js';

const workspace = mkdtempSync(join(tmpdir(), 'hataraku-duckdb-session-'));

afterAll(() => rmSync(workspace, { recursive: true, force: true }));

async function setting(session: Awaited<ReturnType<typeof openDuckDBSession>>, name: string): Promise<string> {
  const connection = await session.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT current_setting('${name}')::VARCHAR`);
    return String(reader.getRows()[0]?.[0]);
  } finally {
    connection.closeSync();
  }
}

describe('openDuckDBSession', () => {
  it('opens a database locked to the workspace, with the given threads and memory limit', async () => {
    const session = await openDuckDBSession(workspace, { memoryLimit: '256MB', threads: 2 });
    try {
      expect(await setting(session, 'enable_external_access')).toBe('false');
      expect(await setting(session, 'lock_configuration')).toBe('true');
      expect(await setting(session, 'autoinstall_known_extensions')).toBe('false');
      expect(await setting(session, 'autoload_known_extensions')).toBe('false');
      expect(await setting(session, 'threads')).toBe('2');
      expect(await setting(session, 'memory_limit')).toMatch(/^2\d\d\.\d MiB$/);
      expect(await setting(session, 'TimeZone')).toBe('UTC');
      expect(await setting(session, 'allowed_directories')).toContain(`${session.root}/`);
      const connection = await session.connect();
      await expect(connection.run("SET allowed_directories = ['/']")).rejects.toThrow(/locked|Cannot change/);
      await expect(connection.run('SET enable_external_access = true')).rejects.toThrow(/locked|Cannot change/);
      connection.closeSync();
    } finally {
      session.dispose();
    }
  });

  it('reports honestly that XLSX is unavailable when the excel extension is not installed', async () => {
    const session = await openDuckDBSession(workspace, { memoryLimit: '256MB', threads: 1 });
    const connection = await session.connect();
    const reader = await connection.runAndReadAll(
      "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'read_xlsx'",
    );
    expect(session.supportsXlsx).toBe(Number(reader.getRows()[0]?.[0]) > 0);
    connection.closeSync();
    session.dispose();
  });

  it('removes its temporary directory when disposed', async () => {
    const session = await openDuckDBSession(workspace, { memoryLimit: '256MB', threads: 1 });
    expect(existsSync(session.temporaryDirectory)).toBe(true);
    expect(await setting(session, 'temp_directory')).toBe(session.temporaryDirectory);
    session.dispose();
    expect(existsSync(session.temporaryDirectory)).toBe(false);
  });

  it('names the option DuckDB refused', async () => {
    await expect(openDuckDBSession(workspace, { memoryLimit: 'plenty', threads: 1 })).rejects.toThrow(/memoryLimit/);
  });
});
