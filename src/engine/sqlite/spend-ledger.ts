/**
 * The spend ledger on SQLite: cost reports and budgets read the `ledger` table (written with
 * each model step, see step-journal.ts); budget reservations hold an estimate against budgets
 * while a call is in flight. A reservation is one row per budget, grouped by `reservation_id`.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../../errors.js';
import type { BudgetReservation, BudgetScope, CostGrouping, CostReportRow, SpendLedger } from '../engine.js';
import type { JournalDatabase } from './journal-database.js';

interface CostRow {
  key: string | number;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_usd: number;
  unpriced: number;
}

interface ReservationRow {
  id: string;
  reservation_id: string;
  run_id: string;
  step_index: number;
  scope: BudgetScope['scope'];
  scope_key: string;
  amount_usd: number;
  expires_at: number;
}

const costGroupings: Record<CostGrouping, string> = {
  model: 'l.model',
  agent: 'r.agent_name',
  day: "strftime('%Y-%m-%d', l.at / 1000, 'unixepoch')",
  tenant: "COALESCE(r.tenant, '(none)')",
  run: 'roots.root',
};

const budgetFilters: Record<BudgetScope['scope'], string> = {
  run: `l.run_id IN (WITH RECURSIVE tree(id) AS (SELECT @key UNION ALL
          SELECT child.id FROM runs child JOIN tree ON child.parent_run_id = tree.id) SELECT id FROM tree)`,
  agent: 'r.agent_name = @key',
  tenant: 'r.tenant = @key',
  global: '1 = 1',
};

function costFromRow(row: CostRow): CostReportRow {
  return {
    key: String(row.key),
    calls: Number(row.calls),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    costUsd: Number(row.cost_usd),
    unpricedCalls: Number(row.unpriced),
  };
}

export function createSpendLedger(database: JournalDatabase): SpendLedger {
  const { db, now, guard } = database;
  const statements = {
    reservedFor: db.prepare<[string, string, number], { amount: number }>(
      'SELECT COALESCE(SUM(amount_usd), 0) AS amount FROM budget_reservations WHERE scope = ? AND scope_key = ? AND expires_at > ?',
    ),
    insertReservation: db.prepare<ReservationRow>(
      `INSERT INTO budget_reservations (id, reservation_id, run_id, step_index, scope, scope_key, amount_usd, expires_at)
       VALUES (@id, @reservation_id, @run_id, @step_index, @scope, @scope_key, @amount_usd, @expires_at)`,
    ),
    deleteReservation: db.prepare<[string]>('DELETE FROM budget_reservations WHERE reservation_id = ?'),
    deleteExpiredReservations: db.prepare<[number]>('DELETE FROM budget_reservations WHERE expires_at <= ?'),
    spent: Object.fromEntries(
      Object.entries(budgetFilters).map(([scope, filter]) => [
        scope,
        db.prepare<{ key: string; since: number }, { spent: number }>(
          `SELECT COALESCE(SUM(l.cost_usd), 0) AS spent FROM ledger l JOIN runs r ON r.id = l.run_id
           WHERE l.at >= @since AND ${filter}`,
        ),
      ]),
    ),
    costs: Object.fromEntries(
      Object.entries(costGroupings).map(([grouping, key]) => [
        grouping,
        db.prepare<{ since: number; run_id: string | null; tenant: string | null }, CostRow>(
          `WITH RECURSIVE roots(id, root) AS (
             SELECT id, id FROM runs WHERE parent_run_id IS NULL
             UNION ALL SELECT child.id, roots.root FROM runs child JOIN roots ON child.parent_run_id = roots.id)
           SELECT ${key} AS key, COUNT(*) AS calls,
                  COALESCE(SUM(l.input_tokens), 0) AS input_tokens, COALESCE(SUM(l.output_tokens), 0) AS output_tokens,
                  COALESCE(SUM(l.cached_input_tokens), 0) AS cached_input_tokens,
                  COALESCE(SUM(l.cost_usd), 0) AS cost_usd, COALESCE(SUM(l.cost_usd IS NULL), 0) AS unpriced
           FROM ledger l JOIN runs r ON r.id = l.run_id JOIN roots ON roots.id = l.run_id
           WHERE l.at >= @since AND (@run_id IS NULL OR roots.root = @run_id) AND (@tenant IS NULL OR r.tenant = @tenant)
           GROUP BY 1 ORDER BY cost_usd DESC, key`,
        ),
      ]),
    ),
  };

  /** Spend recorded in the ledger for a budget's scope since its start. */
  function spentIn(budget: BudgetScope): number {
    const statement = statements.spent[budget.scope];
    if (!statement) throw new UserError('usage', `unknown budget scope ${budget.scope}`);
    return statement.get({ key: budget.key, since: budget.since })?.spent ?? 0;
  }

  return {
    costReport(query) {
      return guard('reporting costs', () => {
        const statement = statements.costs[query.by];
        if (!statement) throw new UserError('usage', `cannot group costs by ${query.by}`);
        return statement
          .all({ since: query.since ?? 0, run_id: query.runId ?? null, tenant: query.tenant ?? null })
          .map(costFromRow);
      });
    },
    spentUsd(budget) {
      return guard('summing spend', () => spentIn(budget));
    },
    reserveBudget(request) {
      return guard('reserving budget', () =>
        db
          .transaction((): BudgetReservation => {
            const time = now();
            statements.deleteExpiredReservations.run(time);
            for (const budget of request.budgets) {
              const spent = spentIn(budget);
              const reserved = statements.reservedFor.get(budget.scope, budget.key, time)?.amount ?? 0;
              if (spent + reserved + request.amountUsd > budget.limitUsd) {
                return { ok: false, budget, spentUsd: spent, reservedUsd: reserved };
              }
            }
            const id = `reservation_${randomUUID()}`;
            for (const budget of request.budgets) {
              statements.insertReservation.run({
                id: `${id}:${budget.scope}:${budget.key}`,
                reservation_id: id,
                run_id: request.runId,
                step_index: request.stepIndex,
                scope: budget.scope,
                scope_key: budget.key,
                amount_usd: request.amountUsd,
                expires_at: time + request.ttlMs,
              });
            }
            return { ok: true, id };
          })
          .immediate(),
      );
    },
    releaseReservation(id) {
      return guard('releasing a reservation', () => {
        statements.deleteReservation.run(id);
      });
    },
  };
}
