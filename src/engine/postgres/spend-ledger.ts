/**
 * The spend ledger on PostgreSQL: cost reports and budgets read the `ledger` table (written with
 * each model step); a budget reservation is one row per budget, grouped by `reservation_id`,
 * taken under one advisory lock per budget.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../../errors.js';
import type { BudgetReservation, BudgetScope, SpendLedger } from '../engine.js';
import type { PostgresJournalDatabase, Queryable } from './journal-database.js';

/** A cost report line as PostgreSQL returns it: counts and sums of BIGINT arrive as strings. */
interface CostRow {
  key: string;
  calls: string;
  input_tokens: string;
  output_tokens: string;
  cached_input_tokens: string;
  cost_usd: number;
  unpriced: string;
}

export function createSpendLedger(database: PostgresJournalDatabase): SpendLedger {
  const { pool, now, operation, transaction } = database;

  const spentFilters: Record<BudgetScope['scope'], string> = {
    run: `l.run_id IN (WITH RECURSIVE tree(id) AS (SELECT $1::text UNION ALL
            SELECT child.id FROM runs child JOIN tree ON child.parent_run_id = tree.id) SELECT id FROM tree)`,
    agent: 'r.agent_name = $1',
    tenant: 'r.tenant = $1',
    global: '$1::text IS NOT NULL',
  };
  async function spentIn(client: Queryable, budget: BudgetScope): Promise<number> {
    const row = (
      await client.query<{ spent: number }>(
        `SELECT COALESCE(SUM(l.cost_usd), 0) AS spent FROM ledger l JOIN runs r ON r.id = l.run_id
         WHERE l.at >= $2 AND ${spentFilters[budget.scope]}`,
        [budget.key, budget.since],
      )
    ).rows[0];
    return Number(row?.spent ?? 0);
  }

  return {
    costReport(query) {
      return operation('reporting costs', async () => {
        const groupings: Record<string, string> = {
          model: 'l.model',
          agent: 'r.agent_name',
          day: "to_char(to_timestamp(l.at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
          tenant: "COALESCE(r.tenant, '(none)')",
          run: 'roots.root',
        };
        const key = groupings[query.by];
        if (key === undefined) throw new UserError('usage', `cannot group costs by ${query.by}`);
        const rows = (
          await pool.query<CostRow>(
            `WITH RECURSIVE roots(id, root) AS (
               SELECT id, id FROM runs WHERE parent_run_id IS NULL
               UNION ALL SELECT child.id, roots.root FROM runs child JOIN roots ON child.parent_run_id = roots.id)
             SELECT ${key} AS key, COUNT(*) AS calls,
                    COALESCE(SUM(l.input_tokens), 0) AS input_tokens, COALESCE(SUM(l.output_tokens), 0) AS output_tokens,
                    COALESCE(SUM(l.cached_input_tokens), 0) AS cached_input_tokens,
                    COALESCE(SUM(l.cost_usd), 0) AS cost_usd, COUNT(*) FILTER (WHERE l.cost_usd IS NULL) AS unpriced
             FROM ledger l JOIN runs r ON r.id = l.run_id JOIN roots ON roots.id = l.run_id
             WHERE l.at >= $1 AND ($2::text IS NULL OR roots.root = $2) AND ($3::text IS NULL OR r.tenant = $3)
             GROUP BY 1 ORDER BY cost_usd DESC, key`,
            [query.since ?? 0, query.runId ?? null, query.tenant ?? null],
          )
        ).rows;
        return rows.map((row) => ({
          key: String(row.key),
          calls: Number(row.calls),
          inputTokens: Number(row.input_tokens),
          outputTokens: Number(row.output_tokens),
          cachedInputTokens: Number(row.cached_input_tokens),
          costUsd: Number(row.cost_usd),
          unpricedCalls: Number(row.unpriced),
        }));
      });
    },
    spentUsd(budget) {
      return operation('summing spend', () => spentIn(pool, budget));
    },
    reserveBudget(request) {
      return operation('reserving budget', () =>
        transaction(async (client): Promise<BudgetReservation> => {
          // One lock per budget, in a fixed order: parallel reservations under one budget take turns.
          const keys = [...new Set(request.budgets.map((budget) => `${budget.scope}:${budget.key}`))].sort();
          for (const key of keys) {
            await client.query("SELECT pg_advisory_xact_lock(hashtextextended('hataraku-budget:' || $1, 0))", [key]);
          }
          const time = now();
          await client.query('DELETE FROM budget_reservations WHERE expires_at <= $1', [time]);
          for (const budget of request.budgets) {
            const spent = await spentIn(client, budget);
            const reserved = Number(
              (
                await client.query<{ amount: number }>(
                  `SELECT COALESCE(SUM(amount_usd), 0) AS amount FROM budget_reservations
                     WHERE scope = $1 AND scope_key = $2 AND expires_at > $3`,
                  [budget.scope, budget.key, time],
                )
              ).rows[0]?.amount ?? 0,
            );
            if (spent + reserved + request.amountUsd > budget.limitUsd) {
              return { ok: false, budget, spentUsd: spent, reservedUsd: reserved };
            }
          }
          const id = `reservation_${randomUUID()}`;
          for (const budget of request.budgets) {
            await client.query(
              `INSERT INTO budget_reservations (id, reservation_id, run_id, step_index, scope, scope_key, amount_usd,
                 expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
              [
                `${id}:${budget.scope}:${budget.key}`,
                id,
                request.runId,
                request.stepIndex,
                budget.scope,
                budget.key,
                request.amountUsd,
                time + request.ttlMs,
              ],
            );
          }
          return { ok: true, id };
        }),
      );
    },
    releaseReservation(id) {
      return operation('releasing a reservation', async () => {
        await pool.query('DELETE FROM budget_reservations WHERE reservation_id = $1', [id]);
      });
    },
  };
}
