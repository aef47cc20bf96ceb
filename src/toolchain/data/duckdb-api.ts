/**
 * The DuckDB Node API, loaded on first use.
 *
 * Loading `@duckdb/node-api` loads DuckDB's native binding, which takes about half a second; a
 * process that imports Hataraku but never queries data should not pay it. The package is
 * CommonJS, so it is required synchronously: the value classes are needed in synchronous code
 * (rendering a result cell), and by then the first query has already loaded the module.
 */
import { createRequire } from 'node:module';
import type * as DuckDBNodeApi from '@duckdb/node-api';

/** The `@duckdb/node-api` module's exports. */
export type DuckDBApi = typeof DuckDBNodeApi;

const require = createRequire(import.meta.url);

/** The module, once required; Node's own module cache would do, this spares the lookup per call. */
let loaded: DuckDBApi | undefined;

/** The `@duckdb/node-api` module, required on the first call. */
export function duckDBApi(): DuckDBApi {
  loaded ??= require('@duckdb/node-api') as DuckDBApi;
  return loaded;
}
