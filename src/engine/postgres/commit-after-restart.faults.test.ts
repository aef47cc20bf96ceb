/**
 * A step committed while the database server restarts, with another commit of the same process
 * learning of the restart while this one's statement is in flight (parallel tool calls do this).
 * The statement was fenced on the old server run, so it wrote nothing; it must be retried, not
 * reported as a lost lease: nobody else owns the run. The interleaving is made deterministic by
 * letting the other commit's check run between this statement's answer and its judgement.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord } from '../engine.js';
import {
  type PrivateCluster,
  privateClusterAvailable,
  privateClusterSkipReason,
  startPrivateCluster,
} from './__fixtures__/private-cluster.js';
import { psql, withDatabase } from './__fixtures__/test-database.js';
import { openJournalDatabase } from './journal-database.js';
import { createRunJournal } from './run-journal.js';
import { createStepJournal } from './step-journal.js';

function step(runId: string, index: number): StepRecord {
  return {
    runId,
    index,
    name: `tool:record`,
    kind: 'tool',
    requestDigest: `digest-${index}`,
    output: `recorded ${index}`,
    model: undefined,
    usage: undefined,
    costUsd: undefined,
    startedAt: 1,
    finishedAt: 2,
  };
}

describe.skipIf(!privateClusterAvailable)('a step committed across a server restart', () => {
  let cluster: PrivateCluster;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('is retried on the new server run when another commit learned of the restart meanwhile', async () => {
    psql(cluster.url, 'CREATE DATABASE hataraku_commit_restart');
    const database = openJournalDatabase({ url: withDatabase(cluster.url, 'hataraku_commit_restart') });
    const runs = createRunJournal(database);
    try {
      const runId = 'run_restart_race';
      await runs.journal.createRun({ id: runId, agentName: 'a', model: 'scripted', input: 'go', spec: {} });
      const direct = createStepJournal(database);
      await direct.commitStep(step(runId, 0));
      const startedBefore = database.guard.serverStartedAt;

      cluster.restart('fast');
      // Connections the restart closed are dropped by a plain query (not the journal's, so the
      // guard does not hear of it): the commit below is sent on the new server run, fenced on
      // the old one.
      for (let attempt = 0; attempt < 20; attempt++) {
        const reached = await database.pool.query('SELECT 1').then(
          () => true,
          () => false,
        );
        if (reached) break;
      }

      // The pool as the step journal sees it: the commit statement runs for real; then, before
      // its answer is judged, the other commit's check finds the restart (as a parallel step's
      // retry would), moving the guard to the new server run.
      let interleaved = 0;
      let sentWith: unknown;
      const pool = new Proxy(database.pool, {
        get(target, property, receiver) {
          if (property !== 'query') return Reflect.get(target, property, receiver);
          return async (config: pg.QueryConfig | string, values?: unknown[]) => {
            const result = await target.query(config as pg.QueryConfig, values);
            if (typeof config === 'object' && config.name === 'hataraku-commit-step' && interleaved === 0) {
              interleaved += 1;
              sentWith = (config.values ?? values)?.[17];
              database.guard.connectionLost();
              await database.guard.checkStepsKept('another_run');
            }
            return result;
          };
        },
      });
      const racing = createStepJournal({ ...database, pool });
      const committed = await racing.commitStep(step(runId, 1));

      expect(interleaved).toBe(1);
      expect(sentWith).toBe(startedBefore);
      expect(database.guard.serverStartedAt).not.toBe(startedBefore);
      expect(committed).toMatchObject({ runId, index: 1, output: 'recorded 1' });
      expect((await direct.listSteps(runId)).map((each) => each.index)).toEqual([0, 1]);
    } finally {
      await runs.release();
      await database.end();
    }
  });
});
if (!privateClusterAvailable) {
  describe('a step committed across a server restart', () => {
    it.skip(privateClusterSkipReason, () => {});
  });
}
