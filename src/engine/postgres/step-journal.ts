/**
 * The step journal on PostgreSQL: a step, its fence and its ledger rows are one statement (one
 * round trip, atomic); the lost-step guard checks a restarted server kept this run's steps.
 */
import { LeaseLostError } from '../../errors.js';
import type { RunTotals, StepJournal } from '../engine.js';
import { type StepRow, stepFromRow, stepToRow } from '../sqlite/rows.js';
import type { PostgresJournalDatabase } from './journal-database.js';
import { ServerRestarted } from './lost-step-guard.js';

/** Sums as PostgreSQL returns them: COUNT and SUM of BIGINT are NUMERIC, which arrive as strings. */
interface TotalsRow {
  steps: string;
  model_calls: string;
  tool_calls: string;
  input_tokens: string;
  output_tokens: string;
  cached_input_tokens: string;
  cost_usd: number;
  unpriced: string;
}

export function createStepJournal(database: PostgresJournalDatabase): StepJournal {
  const { pool, executorId, epochs, guard, operation, sharedSync } = database;
  return {
    listSteps(runId) {
      return operation('listing steps', async () =>
        (await pool.query<StepRow>('SELECT * FROM steps WHERE run_id = $1 ORDER BY step_index', [runId])).rows.map(
          stepFromRow,
        ),
      );
    },
    totals(runId): Promise<RunTotals> {
      return operation('summing a run', async () => {
        const row = (
          await pool.query<TotalsRow>(
            `SELECT COUNT(*) AS steps,
                    COUNT(*) FILTER (WHERE kind = 'model') AS model_calls,
                    COUNT(*) FILTER (WHERE kind = 'tool') AS tool_calls,
                    COALESCE(SUM(input_tokens), 0) AS input_tokens,
                    COALESCE(SUM(output_tokens), 0) AS output_tokens,
                    COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
                    COALESCE(SUM(cost_usd), 0) AS cost_usd,
                    COUNT(*) FILTER (WHERE kind = 'model' AND cost_usd IS NULL) AS unpriced
             FROM steps WHERE run_id = $1`,
            [runId],
          )
        ).rows[0];
        return {
          steps: Number(row?.steps ?? 0),
          modelCalls: Number(row?.model_calls ?? 0),
          toolCalls: Number(row?.tool_calls ?? 0),
          inputTokens: Number(row?.input_tokens ?? 0),
          outputTokens: Number(row?.output_tokens ?? 0),
          cachedInputTokens: Number(row?.cached_input_tokens ?? 0),
          costUsd: Number(row?.cost_usd ?? 0),
          unpricedModelCalls: Number(row?.unpriced ?? 0),
        };
      });
    },
    commitStep(step, commitOptions = {}) {
      return operation(`committing step ${step.index} of run ${step.runId}`, async () => {
        await guard.checkStepsKept(step.runId);
        // The server run this commit is fenced on. The guard may learn of a restart while the
        // statement is in flight (a parallel step's commit): the outcome is judged against the
        // start time the statement was sent with, or a restart would read as a lost lease.
        const serverStartedAt = guard.serverStartedAt;
        const row = stepToRow(step);
        const ledger = (step.ledger ?? []).map((entry) => ({
          model: entry.model,
          input_tokens: entry.usage.inputTokens ?? null,
          output_tokens: entry.usage.outputTokens ?? null,
          cached_input_tokens: entry.usage.cachedInputTokens ?? null,
          cache_write_tokens: entry.usage.cacheWriteTokens ?? null,
          cost_usd: entry.costUsd ?? null,
        }));
        // One statement, so one round trip and atomic: the fence (the run's row, locked and
        // checked), the step, and its ledger rows.
        // Named, so each connection parses and plans it once: it is the statement of every step.
        const result = await pool.query<{ inserted: number; started: string }>({
          name: 'hataraku-commit-step',
          text: `WITH fence AS (
             SELECT id FROM runs WHERE id = $1 AND owner = $15 AND ($16::bigint IS NULL OR lease_epoch = $16)
               AND pg_postmaster_start_time()::text = $18
             FOR SHARE
           ), step AS (
             INSERT INTO steps (run_id, step_index, name, kind, request_digest, output, model, input_tokens,
               output_tokens, cached_input_tokens, cache_write_tokens, cost_usd, started_at, finished_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM fence
             ON CONFLICT (run_id, step_index) DO NOTHING
             RETURNING run_id, step_index
           ), ledger_rows AS (
             INSERT INTO ledger (run_id, step_index, model, input_tokens, output_tokens, cached_input_tokens,
               cache_write_tokens, cost_usd, at)
             SELECT step.run_id, step.step_index, entry.model, entry.input_tokens, entry.output_tokens,
               entry.cached_input_tokens, entry.cache_write_tokens, entry.cost_usd, $14
             FROM step, jsonb_to_recordset($17::jsonb) AS entry(model text, input_tokens bigint, output_tokens bigint,
               cached_input_tokens bigint, cache_write_tokens bigint, cost_usd double precision)
             ON CONFLICT (run_id, step_index, model) DO NOTHING
           )
           SELECT (SELECT COUNT(*) FROM step) AS inserted, pg_postmaster_start_time()::text AS started`,
          values: [
            row.run_id,
            row.step_index,
            row.name,
            row.kind,
            row.request_digest,
            row.output,
            row.model,
            row.input_tokens,
            row.output_tokens,
            row.cached_input_tokens,
            row.cache_write_tokens,
            row.cost_usd,
            row.started_at,
            row.finished_at,
            executorId,
            epochs.get(step.runId) ?? null,
            JSON.stringify(ledger),
            serverStartedAt,
          ],
        });
        const outcome = result.rows[0];
        // The server restarted since this process last looked: nothing was written; check what
        // the restart kept of this run before committing on top of it.
        if (!outcome || outcome.started !== serverStartedAt) throw new ServerRestarted();
        if (Number(outcome.inserted) === 1) {
          guard.committedAsynchronously(step.runId, step.index);
          return step;
        }
        const existing = (
          await pool.query<StepRow>('SELECT * FROM steps WHERE run_id = $1 AND step_index = $2', [
            step.runId,
            step.index,
          ])
        ).rows[0];
        if (existing) return stepFromRow(existing);
        throw new LeaseLostError(
          'lease_lost',
          `run ${step.runId}: this process (${executorId}) no longer owns the run, so step ${step.index} was not committed; another process took it over after this one's lease expired.`,
        );
      }).then(async (record) => {
        if (commitOptions.durable) await sharedSync();
        return record;
      });
    },
    sync() {
      return sharedSync();
    },
  };
}
