/**
 * `hataraku worker`: a long-lived process that, on start and then every `--interval` seconds,
 * recovers the runs that can be taken over: runs a dead process left open (its lease expired or
 * its process is gone) and waiting runs whose approvals were decided while no process ran.
 * Ctrl-C stops it; runs it had taken stay resumable.
 */
import { agentFromSpec } from '../cli-agent.js';
import { loadCliConnectors } from '../cli-connectors.js';
import { type CliIo, openHataraku, positiveNumberFlag } from '../cli-context.js';

export async function workerCommand(
  flags: { interval?: string; once?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const intervalSeconds = positiveNumberFlag('--interval', flags.interval, '5') ?? 5;
  const hataraku = openHataraku(io, flags.config);
  const connectors = await loadCliConnectors(hataraku.config, { strict: false });
  try {
    io.stdout.write(`hataraku worker ${hataraku.engine.executorId}: recovering runs every ${intervalSeconds} s\n`);
    for (;;) {
      const report = await hataraku.recover({
        agentFor: (run) => {
          try {
            return agentFromSpec(run.spec, run.model, hataraku.config, connectors.loaded);
          } catch {
            return undefined;
          }
        },
        runOptions: { approvalWait: 'return', ...(io.signal ? { signal: io.signal } : {}) },
      });
      for (const result of report.results) {
        io.stdout.write(`${new Date().toISOString()} ${result.runId} ${result.status} (${result.stopReason})\n`);
      }
      for (const skipped of report.skipped) {
        // Another worker taking a run first is normal; only other reasons are worth a line.
        if (!/is being executed by/.test(skipped.reason)) {
          io.stdout.write(`${new Date().toISOString()} ${skipped.runId} skipped: ${skipped.reason}\n`);
        }
      }
      if (flags.once || io.signal?.aborted) return 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, intervalSeconds * 1000);
        function done() {
          clearTimeout(timer);
          io.signal?.removeEventListener('abort', done);
          resolve();
        }
        io.signal?.addEventListener('abort', done, { once: true });
      });
      if (io.signal?.aborted) return 0;
    }
  } finally {
    await connectors.close();
    await hataraku.close();
  }
}
