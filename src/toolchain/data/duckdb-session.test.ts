import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDuckDBSession } from './duckdb-session.js';

const workspace = mkdtempSync(join(tmpdir(), 'hataraku-duckdb-session-'));

afterAll(() => rmSync(workspace, { recursive: true, force: true }));

type Session = Awaited<ReturnType<typeof openDuckDBSession>>;

function callAccess(session: Session) {
  return { allowedPaths: ['/proc/self/fd/0'], allowedDirectory: session.scratchDirectory(), persistent: false };
}

async function setting(session: Session, name: string): Promise<string> {
  const opened = await session.connect(callAccess(session));
  try {
    const reader = await opened.connection.runAndReadAll(`SELECT current_setting('${name}')::VARCHAR`);
    return String(reader.getRows()[0]?.[0]);
  } finally {
    opened.close();
  }
}

describe('openDuckDBSession', () => {
  it('opens a database per call locked to the files of the call, with the given threads and memory limit', async () => {
    const session = await openDuckDBSession(workspace, {
      memoryLimit: '256MB',
      threads: 2,
      maxTempDirectorySize: '64MB',
    });
    try {
      expect(await setting(session, 'enable_external_access')).toBe('false');
      expect(await setting(session, 'lock_configuration')).toBe('true');
      expect(await setting(session, 'autoinstall_known_extensions')).toBe('false');
      expect(await setting(session, 'autoload_known_extensions')).toBe('false');
      expect(await setting(session, 'threads')).toBe('2');
      expect(await setting(session, 'memory_limit')).toMatch(/^2\d\d\.\d MiB$/);
      expect(await setting(session, 'max_temp_directory_size')).toBe('61.0 MiB');
      expect(await setting(session, 'TimeZone')).toBe('UTC');
      expect(await setting(session, 'allowed_directories')).toContain(`${session.temporaryDirectory}/call-`);
      expect(await setting(session, 'allowed_directories')).not.toContain(`${session.root}/`);
      // DuckDB stores the path with /proc/self resolved.
      expect(await setting(session, 'allowed_paths')).toMatch(/^\[\/proc\/(?:self|\d+)\/fd\/0\]$/);
      const opened = await session.connect(callAccess(session));
      const connection = opened.connection;
      await expect(connection.run("SET allowed_directories = ['/']")).rejects.toThrow(/locked|Cannot change/);
      await expect(connection.run("SET allowed_paths = ['/etc/passwd']")).rejects.toThrow(/locked|Cannot change/);
      await expect(connection.run('SET enable_external_access = true')).rejects.toThrow(/locked|Cannot change/);
      await expect(connection.run("SET max_temp_directory_size = '1TB'")).rejects.toThrow(/locked|Cannot change/);
      await expect(connection.run("SET temp_directory = '/tmp'")).rejects.toThrow(/locked|Cannot change/);
      opened.close();
    } finally {
      session.dispose();
    }
  });

  it('reports honestly that XLSX is unavailable when the excel extension is not installed', async () => {
    const session = await openDuckDBSession(workspace, {
      memoryLimit: '256MB',
      threads: 1,
      maxTempDirectorySize: '64MB',
    });
    const opened = await session.connect(callAccess(session));
    const reader = await opened.connection.runAndReadAll(
      "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'read_xlsx'",
    );
    expect(session.supportsXlsx).toBe(Number(reader.getRows()[0]?.[0]) > 0);
    opened.close();
    session.dispose();
  });

  it('removes its temporary directory when disposed', async () => {
    const session = await openDuckDBSession(workspace, {
      memoryLimit: '256MB',
      threads: 1,
      maxTempDirectorySize: '64MB',
    });
    expect(existsSync(session.temporaryDirectory)).toBe(true);
    // Each call spills to a directory of its own, removed when the call ends.
    const first = await session.connect(callAccess(session));
    const second = await session.connect(callAccess(session));
    expect(first.spillDirectory).not.toBe(second.spillDirectory);
    const reader = await first.connection.runAndReadAll(`SELECT current_setting('temp_directory')::VARCHAR`);
    expect(String(reader.getRows()[0]?.[0])).toBe(first.spillDirectory);
    expect(first.spillDirectory.startsWith(`${session.temporaryDirectory}/`)).toBe(true);
    first.close();
    second.close();
    expect(existsSync(first.spillDirectory)).toBe(false);
    session.dispose();
    expect(existsSync(session.temporaryDirectory)).toBe(false);
  });

  it('names the option DuckDB refused', async () => {
    await expect(
      openDuckDBSession(workspace, { memoryLimit: 'plenty', threads: 1, maxTempDirectorySize: '64MB' }),
    ).rejects.toThrow(/memoryLimit/);
    await expect(
      openDuckDBSession(workspace, { memoryLimit: '256MB', threads: 1, maxTempDirectorySize: 'heaps' }),
    ).rejects.toThrow(/maxTempDirectorySize "heaps"/);
  });
});
