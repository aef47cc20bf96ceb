/** `hataraku costs [--by model|agent|day|run|tenant] [--since ...] [--json]`: spend from the ledger. */
import type { CostGrouping } from '../../engine/engine.js';
import { UserError } from '../../errors.js';
import { type CliIo, openHataraku } from '../cli-context.js';
import { usd } from '../progress-renderer.js';

const groupings: CostGrouping[] = ['model', 'agent', 'day', 'run', 'tenant'];

export async function costsCommand(
  flags: { by?: string; since?: string; json?: boolean; config?: string },
  io: CliIo,
  now: () => number = Date.now,
): Promise<number> {
  const by = (flags.by ?? 'model') as CostGrouping;
  if (!groupings.includes(by)) {
    throw new UserError('usage', `--by must be one of ${groupings.join(', ')} (got ${JSON.stringify(flags.by)}).`);
  }
  const since = flags.since === undefined ? 0 : parseSince(flags.since, now());
  const hataraku = openHataraku(io, flags.config);
  try {
    const rows = await hataraku.engine.costReport({ by, since });
    if (flags.json) {
      for (const row of rows) io.stdout.write(`${JSON.stringify({ by, ...row })}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.stdout.write('No model calls recorded in that period.\n');
      return 0;
    }
    const total = rows.reduce(
      (sum, row) => ({
        calls: sum.calls + row.calls,
        inputTokens: sum.inputTokens + row.inputTokens,
        outputTokens: sum.outputTokens + row.outputTokens,
        cachedInputTokens: sum.cachedInputTokens + row.cachedInputTokens,
        costUsd: sum.costUsd + row.costUsd,
        unpricedCalls: sum.unpricedCalls + row.unpricedCalls,
      }),
      { calls: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0, unpricedCalls: 0 },
    );
    const table = [
      [by.toUpperCase(), 'CALLS', 'INPUT', 'CACHED', 'OUTPUT', 'COST', 'UNPRICED'],
      ...[...rows, { key: 'total', ...total }].map((row) => [
        row.key,
        String(row.calls),
        String(row.inputTokens),
        String(row.cachedInputTokens),
        String(row.outputTokens),
        usd(row.costUsd),
        row.unpricedCalls > 0 ? `${row.unpricedCalls} (cost unknown)` : '',
      ]),
    ];
    const widths = table[0]?.map((_, column) => Math.max(...table.map((line) => (line[column] ?? '').length))) ?? [];
    for (const line of table) {
      io.stdout.write(
        `${line
          .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    return 0;
  } finally {
    await hataraku.close();
  }
}

/** `2026-11-01`, an ISO time, or a duration back from now: `24h`, `7d`, `30m`. */
export function parseSince(value: string, now: number): number {
  const duration = /^(\d+)\s*(m|h|d)$/.exec(value.trim());
  if (duration) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 'm' | 'h' | 'd'];
    return now - Number(duration[1]) * unit;
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new UserError(
      'usage',
      `--since must be a date (2026-11-01), a time, or a duration such as 7d or 24h (got ${JSON.stringify(value)}).`,
    );
  }
  return time;
}
