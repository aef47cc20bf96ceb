/**
 * DuckDB for one run, confined to the files each call was handed.
 *
 * DuckDB opens files by name, so it cannot be trusted with names a link can redirect. Each tool
 * call therefore gets a database instance of its own, locked down before any SQL from a model
 * runs: extensions are never installed or auto-loaded, `allowed_paths` lists exactly the
 * `/proc/self/fd/N` paths of the workspace files this call opened and checked itself (see
 * `workspace-access.ts`), `allowed_directories` only the call's private scratch directory
 * (outside the workspace), then `enable_external_access = false` and `lock_configuration` make
 * every later `SET` fail. No name in the workspace is ever resolved by DuckDB, so neither a
 * protected entry nor a link flipped in between can be reached.
 *
 * The instance is in memory; with `persistent` (the tools' `readOnly: false`) it is the run's
 * database file in the private directory instead, so tables made by one call are there for the
 * next, and such calls run one at a time. Spill files go to the private directory, removed with
 * the session.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
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

/** What one call's database may open. */
export interface DuckDBCallAccess {
  /** Exact files (the call's checked descriptors, `/proc/self/fd/N`). */
  allowedPaths: readonly string[];
  /** The call's private scratch directory (outputs, names of missing files). */
  allowedDirectory: string;
  /** Use the run's database file, so tables outlive the call (calls then run one at a time). */
  persistent: boolean;
}

/** One call's connection; `close()` ends it and its instance. */
export interface DuckDBCallConnection {
  readonly connection: DuckDBConnection;
  close(): void;
}

export interface DuckDBSession {
  /** Real path of the workspace. */
  readonly root: string;
  /** Private directory (mode 0700) for spill files, scratch directories and the run's database; removed by `dispose`. */
  readonly temporaryDirectory: string;
  /** Whether `.xlsx` files can be read (DuckDB's `excel` extension was already installed and loaded). */
  readonly supportsXlsx: boolean;
  /** A new, locked-down database for one call. */
  connect(access: DuckDBCallAccess): Promise<DuckDBCallConnection>;
  /** A new private scratch directory for one call, inside {@link temporaryDirectory}. */
  scratchDirectory(): string;
  /** Remove the private directory. */
  dispose(): void;
}

/** Open the DuckDB session of a run over `workspace` (an existing directory). */
export async function openDuckDBSession(workspace: string, options: DuckDBSessionOptions): Promise<DuckDBSession> {
  const root = realpathSync(workspace);
  const temporaryDirectory = realpathSync(mkdtempSync(join(tmpdir(), 'hataraku-duckdb-')));
  const spillDirectory = join(temporaryDirectory, 'spill');
  mkdirSync(spillDirectory);
  const databasePath = join(temporaryDirectory, 'run.duckdb');
  let supportsXlsx = false;
  let scratchCount = 0;
  // Persistent calls share one database file: one at a time.
  let persistentQueue: Promise<void> = Promise.resolve();

  const createInstance = async (path: string): Promise<DuckDBInstance> => {
    try {
      return await duckDBApi().DuckDBInstance.create(path, {
        threads: String(options.threads),
        memory_limit: options.memoryLimit,
        temp_directory: spillDirectory,
        autoinstall_known_extensions: 'false',
        autoload_known_extensions: 'false',
        allow_community_extensions: 'false',
      });
    } catch (error) {
      throw new TypeError(
        `createDataTools(): DuckDB refused the options (memoryLimit ${JSON.stringify(options.memoryLimit)}, threads ${options.threads}): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  };

  const lockDown = async (connection: DuckDBConnection, access: DuckDBCallAccess) => {
    if (supportsXlsx) await connection.run('LOAD excel');
    await connection.run(`SET GLOBAL TimeZone = 'UTC'`);
    await connection.run(`SET allowed_paths = [${access.allowedPaths.map(sqlString).join(', ')}]`);
    await connection.run(`SET allowed_directories = [${sqlString(`${access.allowedDirectory}/`)}]`);
    await connection.run('SET enable_external_access = false');
    await connection.run('SET lock_configuration = true');
  };

  try {
    const probe = await createInstance(':memory:');
    const connection = await probe.connect();
    try {
      // Only an extension already installed on this machine can load: installing needs the
      // network, and is refused once external access is off.
      await connection.run('LOAD excel');
      supportsXlsx = true;
    } catch {
      supportsXlsx = false;
    } finally {
      connection.closeSync();
      probe.closeSync();
    }
  } catch (error) {
    rmSync(temporaryDirectory, { recursive: true, force: true });
    throw error;
  }

  return {
    root,
    temporaryDirectory,
    supportsXlsx,
    scratchDirectory() {
      const directory = join(temporaryDirectory, `call-${++scratchCount}`);
      mkdirSync(directory);
      return directory;
    },
    async connect(access) {
      let release = () => {};
      if (access.persistent) {
        const previous = persistentQueue;
        persistentQueue = new Promise<void>((resolve) => {
          release = resolve;
        });
        await previous;
      }
      let instance: DuckDBInstance | undefined;
      let connection: DuckDBConnection | undefined;
      try {
        instance = await createInstance(access.persistent ? databasePath : ':memory:');
        connection = await instance.connect();
        await lockDown(connection, access);
      } catch (error) {
        connection?.closeSync();
        instance?.closeSync();
        release();
        throw error;
      }
      const opened = { instance, connection };
      return {
        connection: opened.connection,
        close() {
          opened.connection.closeSync();
          opened.instance.closeSync();
          release();
        },
      };
    },
    dispose() {
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
