/**
 * One DuckDB database per run, confined to the run's workspace.
 *
 * The database is in memory. Before any SQL from a model runs, the session is locked down:
 * extensions are never installed or auto-loaded, file access is limited to the workspace
 * (`allowed_directories`, then `enable_external_access = false`, under which DuckDB also refuses
 * symbolic links that lead out), and `lock_configuration` makes every later `SET` fail, so no
 * query can widen access again. Spill files go to a private temporary directory, removed with
 * the session. Each tool call opens its own connection, so temporary views made for one call
 * vanish with it and concurrent calls do not share a connection.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { ToolContext } from '../../tools/tool.js';
import { sqlString } from './data-formats.js';
import { duckDBApi } from './duckdb-api.js';

export interface DuckDBSessionOptions {
  /** DuckDB `memory_limit`, e.g. `'1GB'`; larger intermediate results spill to a temporary directory. */
  memoryLimit: string;
  /** DuckDB worker threads. */
  threads: number;
}

export interface DuckDBSession {
  /** Real path of the workspace: the only directory the database may read or write. */
  readonly root: string;
  /** Private directory for DuckDB's spill files; removed by `dispose`. */
  readonly temporaryDirectory: string;
  /** Whether `.xlsx` files can be read (DuckDB's `excel` extension was already installed and loaded). */
  readonly supportsXlsx: boolean;
  /** A new connection; close it with `closeSync()` when the call is done. */
  connect(): Promise<DuckDBConnection>;
  /** Close the database and remove its temporary directory. */
  dispose(): void;
}

/** Open a locked-down in-memory DuckDB database for `workspace` (an existing directory). */
export async function openDuckDBSession(workspace: string, options: DuckDBSessionOptions): Promise<DuckDBSession> {
  const root = realpathSync(workspace);
  const temporaryDirectory = mkdtempSync(join(tmpdir(), 'hataraku-duckdb-'));
  let instance: DuckDBInstance;
  try {
    instance = await duckDBApi().DuckDBInstance.create(':memory:', {
      threads: String(options.threads),
      memory_limit: options.memoryLimit,
      temp_directory: temporaryDirectory,
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      allow_community_extensions: 'false',
    });
  } catch (error) {
    rmSync(temporaryDirectory, { recursive: true, force: true });
    throw new TypeError(
      `createDataTools(): DuckDB refused the options (memoryLimit ${JSON.stringify(options.memoryLimit)}, threads ${options.threads}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  let supportsXlsx = false;
  const setup = await instance.connect();
  try {
    try {
      // Only an extension already installed on this machine can load: installing needs the
      // network, and is refused once external access is off.
      await setup.run('LOAD excel');
      supportsXlsx = true;
    } catch {
      supportsXlsx = false;
    }
    await setup.run(`SET GLOBAL TimeZone = 'UTC'`);
    await setup.run(`SET allowed_directories = [${sqlString(`${root}/`)}]`);
    await setup.run('SET enable_external_access = false');
    await setup.run('SET lock_configuration = true');
  } catch (error) {
    setup.closeSync();
    instance.closeSync();
    rmSync(temporaryDirectory, { recursive: true, force: true });
    throw error;
  }
  setup.closeSync();
  return {
    root,
    temporaryDirectory,
    supportsXlsx,
    connect: () => instance.connect(),
    dispose() {
      instance.closeSync();
      rmSync(temporaryDirectory, { recursive: true, force: true });
    },
  };
}

/**
 * The run's session for its workspace, opened on first use and disposed when the run ends.
 * Tools created with the same DuckDB options share it.
 */
export function duckDBSessionFor(
  context: ToolContext,
  root: string,
  options: DuckDBSessionOptions,
): Promise<DuckDBSession> {
  return context.runResources.get(
    `hataraku.data.duckdb:${options.memoryLimit}:${options.threads}:${root}`,
    () => openDuckDBSession(root, options),
    (session) => session.dispose(),
  );
}
