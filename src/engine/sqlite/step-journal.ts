/**
 * The step journal on SQLite: a step's output is committed once (with its cost-ledger rows, in
 * one transaction), and read back on replay.
 */
import { LeaseLostError } from '../../errors.js';
import type { LedgerEntry, RunTotals, StepJournal, StepRecord } from '../engine.js';
import type { JournalDatabase } from './journal-database.js';
import { type StepRow, stepFromRow, stepToRow } from './rows.js';

interface TotalsRow {
  steps: number;
  model_calls: number;
  tool_calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_usd: number;
  unpriced: number;
}

interface LedgerRow {
  run_id: string;
  step_index: number;
  model: string;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
  at: number;
}

function ledgerToRow(step: StepRecord, entry: LedgerEntry): LedgerRow {
  return {
    run_id: step.runId,
    step_index: step.index,
    model: entry.model,
    input_tokens: entry.usage.inputTokens ?? null,
    output_tokens: entry.usage.outputTokens ?? null,
    cached_input_tokens: entry.usage.cachedInputTokens ?? null,
    cache_write_tokens: entry.usage.cacheWriteTokens ?? null,
    cost_usd: entry.costUsd ?? null,
    at: step.finishedAt,
  };
}

export interface SqliteStepJournal {
  journal: StepJournal;
  /** Insert a step (and its ledger rows) once, inside the caller's transaction. */
  insertStepOnce(step: StepRecord): StepRecord;
}

export function createStepJournal(database: JournalDatabase): SqliteStepJournal {
  const { db, executorId, guard, sharedSync } = database;
  const statements = {
    getStep: db.prepare<[string, number], StepRow>('SELECT * FROM steps WHERE run_id = ? AND step_index = ?'),
    listSteps: db.prepare<[string], StepRow>('SELECT * FROM steps WHERE run_id = ? ORDER BY step_index'),
    // Only while this executor owns the run: the fence against a process that lost its lease.
    insertStep: db.prepare<StepRow & { owner: string }>(
      `INSERT INTO steps (run_id, step_index, name, kind, request_digest, output, model, input_tokens, output_tokens,
         cached_input_tokens, cache_write_tokens, cost_usd, started_at, finished_at)
       SELECT @run_id, @step_index, @name, @kind, @request_digest, @output, @model, @input_tokens, @output_tokens,
         @cached_input_tokens, @cache_write_tokens, @cost_usd, @started_at, @finished_at
       WHERE EXISTS (SELECT 1 FROM runs WHERE id = @run_id AND owner = @owner)
       ON CONFLICT (run_id, step_index) DO NOTHING`,
    ),
    insertLedger: db.prepare<LedgerRow>(
      `INSERT INTO ledger (run_id, step_index, model, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,
         cost_usd, at)
       VALUES (@run_id, @step_index, @model, @input_tokens, @output_tokens, @cached_input_tokens, @cache_write_tokens,
         @cost_usd, @at)
       ON CONFLICT (run_id, step_index, model) DO NOTHING`,
    ),
    totals: db.prepare<[string], TotalsRow>(
      `SELECT COUNT(*) AS steps,
              COALESCE(SUM(kind = 'model'), 0) AS model_calls,
              COALESCE(SUM(kind = 'tool'), 0) AS tool_calls,
              COALESCE(SUM(input_tokens), 0) AS input_tokens,
              COALESCE(SUM(output_tokens), 0) AS output_tokens,
              COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
              COALESCE(SUM(cost_usd), 0) AS cost_usd,
              COALESCE(SUM(kind = 'model' AND cost_usd IS NULL), 0) AS unpriced
       FROM steps WHERE run_id = ?`,
    ),
  };

  function insertStepOnce(step: StepRecord): StepRecord {
    // Not a spread: on Node 20 that makes a hidden class per row (`server/gateway/copy-with.ts`).
    const result = statements.insertStep.run(Object.assign(stepToRow(step), { owner: executorId }));
    if (result.changes === 1) {
      for (const entry of step.ledger ?? []) statements.insertLedger.run(ledgerToRow(step, entry));
      return step;
    }
    const existing = statements.getStep.get(step.runId, step.index);
    if (existing) return stepFromRow(existing);
    throw new LeaseLostError(
      'lease_lost',
      `run ${step.runId}: this process (${executorId}) no longer owns the run, so step ${step.index} was not committed; another process took it over after this one's lease expired.`,
    );
  }
  // Made once: better-sqlite3 prepares its BEGIN and COMMIT for each transaction function.
  const insertStepWithLedger = db.transaction(insertStepOnce);

  const journal: StepJournal = {
    listSteps(runId) {
      return guard('listing steps', () => statements.listSteps.all(runId).map(stepFromRow));
    },
    totals(runId): Promise<RunTotals> {
      return guard('summing a run', () => {
        const row = statements.totals.get(runId);
        return {
          steps: row?.steps ?? 0,
          modelCalls: row?.model_calls ?? 0,
          toolCalls: row?.tool_calls ?? 0,
          inputTokens: row?.input_tokens ?? 0,
          outputTokens: row?.output_tokens ?? 0,
          cachedInputTokens: row?.cached_input_tokens ?? 0,
          costUsd: row?.cost_usd ?? 0,
          unpricedModelCalls: row?.unpriced ?? 0,
        };
      });
    },
    commitStep(step, options = {}) {
      return guard(`committing step ${step.index} of run ${step.runId}`, () =>
        // One statement, one commit: a lone INSERT is atomic; with ledger rows, the step and its
        // rows commit in one transaction.
        step.ledger && step.ledger.length > 0 ? insertStepWithLedger.immediate(step) : insertStepOnce(step),
      ).then(async (record) => {
        if (options.durable) await sharedSync();
        return record;
      });
    },
    sync() {
      return sharedSync();
    },
  };
  return { journal, insertStepOnce };
}
