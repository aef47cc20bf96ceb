/** The server's event log, on a real SQLite file: sequence numbers per run, replay, live, pruning. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../agent/events.js';
import { openEventLog, type SequencedEvent } from './event-log.js';

const delta = (runId: string, text: string): RunEvent => ({ type: 'text-delta', runId, stepIndex: 0, delta: text });

describe('the event log', () => {
  it('numbers each run’s events from 1, replays after a given number, and continues after reopening', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hataraku-events-')), 'nested', 'hataraku.db');
    let now = 1000;
    const log = openEventLog({ path, now: () => now });
    const live: SequencedEvent[] = [];
    const unsubscribe = log.subscribe('run_a', (event) => live.push(event));
    expect([log.append(delta('run_a', 'a')), log.append(delta('run_b', 'x')), log.append(delta('run_a', 'b'))]).toEqual(
      [1, 1, 2],
    );
    unsubscribe();
    log.append(delta('run_a', 'c'));
    expect(live.map((event) => event.seq)).toEqual([1, 2]);
    expect(log.since('run_a', 1).map((event) => [event.seq, (event.event as { delta: string }).delta])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    log.close();
    const reopened = openEventLog({ path, now: () => now });
    expect(reopened.append(delta('run_a', 'd'))).toBe(4);
    now = 5000;
    reopened.append(delta('run_c', 'new'));
    reopened.append(delta('run_b', 'still going'));
    // run_a has been quiet since 1000: forgotten; run_b had an event since, so all of it stays.
    expect(reopened.prune(2000)).toBe(4);
    expect(reopened.since('run_b', 0)).toHaveLength(2);
    expect(reopened.since('run_a', 0)).toEqual([]);
    expect(reopened.since('run_c', 0)).toHaveLength(1);
    reopened.close();
  });
});
