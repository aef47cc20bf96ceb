/**
 * The DuckDB Node API, loaded on first use.
 *
 * Loading `@duckdb/node-api` loads DuckDB's native binding, which takes about half a second; a
 * process that imports Hataraku but never queries data should not pay it. The package is
 * CommonJS, so it can be required synchronously where its values are first needed: its enums
 * and value classes are used in synchronous code (checking a statement type, rendering a cell).
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
