/**
 * `hataraku worker`: a long-lived process that takes runs from the journal's shared queue and
 * executes them: queued runs no one has started, runs a dead process left open (its lease
 * expired, or its process on this machine is gone), and waiting runs whose approvals were
 * decided. Any number of workers on any number of machines can share one PostgreSQL journal
 * (docs/scale-out.md); each takes at most `--concurrency` runs at once, and all of them together
 * at most `--tenant-concurrency` runs of one tenant. Ctrl-C stops taking runs; the runs it holds
 * stop at their next step and stay resumable.
 */
import type { RunRecord } from '../../engine/engine.js';
import { describeUrl } from '../../engine/postgres/connection.js';
import { createHataraku } from '../../hataraku.js';
import { agentFromSpec } from '../cli-agent.js';
import { loadCliConnectors } from '../cli-connectors.js';
import { type CliIo, journalUnreachableNotice, positiveIntegerFlag, positiveNumberFlag } from '../cli-context.js';

export interface WorkerFlags {
  interval?: string;
  once?: boolean;
  concurrency?: string;
  tenantConcurrency?: string;
  config?: string;
}

export async function workerCommand(flags: WorkerFlags, io: CliIo): Promise<number> {
  const intervalSeconds = positiveNumberFlag('--interval', flags.interval, '5') ?? 5;
  const concurrency = positiveIntegerFlag('--concurrency', flags.concurrency, '8') ?? 8;
  const perTenant = positiveIntegerFlag('--tenant-concurrency', flags.tenantConcurrency, '2');
  const hataraku = createHataraku({
    cwd: io.cwd,
    env: io.env,
    maxConcurrentRuns: concurrency,
    onJournalUnreachable: journalUnreachableNotice(io),
    ...(flags.config ? { configPath: flags.config } : {}),
  });
  const engine = hataraku.engine;
  const connectors = await loadCliConnectors(hataraku.config, { strict: false });
  const active = new Map<string, Promise<void>>();
  let wake: (() => void) | undefined;
  const stamp = () => new Date().toISOString();

  function execute(run: RunRecord): void {
    let agent: ReturnType<typeof agentFromSpec>;
    try {
      agent = agentFromSpec(run.spec, run.model, hataraku.config, connectors.loaded);
    } catch (error) {
      io.stdout.write(`${stamp()} ${run.id} skipped: ${error instanceof Error ? error.message : String(error)}\n`);
      active.set(
        run.id,
        engine.releaseRun(run.id).finally(() => {
          active.delete(run.id);
        }),
      );
      return;
    }
    const execution = hataraku
      .resume(agent, run.id, { approvalWait: 'return', ...(io.signal ? { signal: io.signal } : {}) })
      .result.then(
        (result) => {
          io.stdout.write(`${stamp()} ${result.runId} ${result.status} (${result.stopReason})\n`);
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          // Another worker taking a run first is normal; only other reasons are worth a line.
          if (!/is being executed by/.test(message)) io.stdout.write(`${stamp()} ${run.id} skipped: ${message}\n`);
        },
      )
      .finally(() => {
        active.delete(run.id);
        wake?.();
      });
    active.set(run.id, execution);
  }

  /** Take as many runs as there are free slots; how many were taken. */
  async function fill(): Promise<number> {
    const free = concurrency - active.size;
    if (free <= 0 || io.signal?.aborted) return 0;
    await engine.expireApprovalDeadlines();
    const taken = await engine.takeRuns({ limit: free, perTenant });
    for (const run of taken) execute(run);
    return taken.length;
  }

  try {
    const where = hataraku.config.journal.url ? describeUrl(hataraku.config.journal.url) : hataraku.config.journal.path;
    io.stdout.write(
      `hataraku worker ${engine.executorId}: taking runs from ${where}, ${concurrency} at once${perTenant === undefined ? '' : `, ${perTenant} per tenant`}, looking every ${intervalSeconds} s\n`,
    );
    for (;;) {
      const busyBefore = active.size;
      const taken = await fill();
      // Done only when a look with nothing running found nothing: a run that ended while
      // `fill` was looking (its end not yet seen by the query) may have freed its tenant's slot.
      if (flags.once && taken === 0 && busyBefore === 0 && active.size === 0) return 0;
      if (io.signal?.aborted) break;
      // Runs ended while we looked (their wake-up came before anyone waited): look again now.
      if (active.size === 0 && (taken > 0 || busyBefore > 0)) continue;
      await new Promise<void>((resolve) => {
        // With --once, look again as soon as a run ends; otherwise also every interval.
        const timer = flags.once && active.size > 0 ? undefined : setTimeout(done, intervalSeconds * 1000);
        function done() {
          if (timer) clearTimeout(timer);
          wake = undefined;
          io.signal?.removeEventListener('abort', done);
          resolve();
        }
        wake = done;
        io.signal?.addEventListener('abort', done, { once: true });
      });
    }
    await Promise.allSettled(active.values());
    return 0;
  } finally {
    await Promise.allSettled(active.values());
    await connectors.close();
    await hataraku.close();
  }
}
