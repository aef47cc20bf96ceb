/// <reference lib="dom" />
/** Numbers, money, durations and JSON values as the console writes them. */
import type { Json, Run } from './api-types.js';

export const money = (usd: number) => (usd < 0.01 && usd > 0 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(4)}`);
export const number = (value: number) => value.toLocaleString('en-US');
export function duration(run: Run): string {
  const ms = Date.parse(run.updatedAt) - Date.parse(run.createdAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
export function text(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
