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
 * next, and such calls run one at a time.
 *
 * Disk and memory are bounded per call: `memory_limit` caps memory, and intermediate results
 * past it spill to a directory of the call's own (inside the private directory, removed when the
 * call ends) holding at most `max_temp_directory_size`. A query that needs more fails with
 * DuckDB's out-of-memory error naming that setting. The limit is set on the live connection,
 * before the configuration is locked: given as an instance option, DuckDB 1.5 echoes it back
 * from `current_setting` but never hands it to the buffer manager, which then allows 90 % of the
 * free disk.
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
  /** DuckDB `max_temp_directory_size`: the most one call may spill to disk, e.g. `'2GB'`. */
  maxTempDirectorySize: string;
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

/** One call's connection; `close()` ends it and its instance, and removes its spill directory. */
export interface DuckDBCallConnection {
  readonly connection: DuckDBConnection;
  /** Where this call's intermediate results spill (at most `maxTempDirectorySize`). */
  readonly spillDirectory: string;
  close(): void;
}

export interface DuckDBSession {
  /** Real path of the workspace. */
  readonly root: string;
  /** Private directory (mode 0700) for each call's spill directory, scratch directories and the run's database; removed by `dispose`. */
  readonly temporaryDirectory: string;
  /** The run's database file (`persistent` calls), and its write-ahead log beside it with `.wal` added. */
  readonly databasePath: string;
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
  const databasePath = join(temporaryDirectory, 'run.duckdb');
  let supportsXlsx = false;
  let scratchCount = 0;
  let spillCount = 0;
  // Persistent calls share one database file: one at a time.
  let persistentQueue: Promise<void> = Promise.resolve();

  const createInstance = async (path: string, spillDirectory: string): Promise<DuckDBInstance> => {
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
    await connection.run(`SET GLOBAL max_temp_directory_size = ${sqlString(options.maxTempDirectorySize)}`);
    await connection.run(`SET allowed_paths = [${access.allowedPaths.map(sqlString).join(', ')}]`);
    await connection.run(`SET allowed_directories = [${sqlString(`${access.allowedDirectory}/`)}]`);
    await connection.run('SET enable_external_access = false');
    await connection.run('SET lock_configuration = true');
  };

  try {
    const probeSpill = join(temporaryDirectory, 'probe-spill');
    mkdirSync(probeSpill);
    const probe = await createInstance(':memory:', probeSpill);
    const connection = await probe.connect();
    try {
      // Refuse a limit DuckDB cannot read now, not at the first call.
      await connection.run(`SET GLOBAL max_temp_directory_size = ${sqlString(options.maxTempDirectorySize)}`);
    } catch (error) {
      connection.closeSync();
      probe.closeSync();
      throw new TypeError(
        `createDataTools(): DuckDB refused maxTempDirectorySize ${JSON.stringify(options.maxTempDirectorySize)}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
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
      rmSync(probeSpill, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(temporaryDirectory, { recursive: true, force: true });
    throw error;
  }

  return {
    root,
    temporaryDirectory,
    databasePath,
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
      // Each call spills to a directory of its own, removed when the call ends.
      const spillDirectory = join(temporaryDirectory, `spill-${++spillCount}`);
      const removeSpill = () => rmSync(spillDirectory, { recursive: true, force: true });
      try {
        mkdirSync(spillDirectory);
        instance = await createInstance(access.persistent ? databasePath : ':memory:', spillDirectory);
        connection = await instance.connect();
        await lockDown(connection, access);
      } catch (error) {
        connection?.closeSync();
        instance?.closeSync();
        removeSpill();
        release();
        throw error;
      }
      const opened = { instance, connection };
      return {
        connection: opened.connection,
        spillDirectory,
        close() {
          opened.connection.closeSync();
          opened.instance.closeSync();
          removeSpill();
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
    `hataraku.data.duckdb:${options.memoryLimit}:${options.threads}:${options.maxTempDirectorySize}:${root}`,
    () => openDuckDBSession(root, options),
    (session) => session.dispose(),
  );
}
