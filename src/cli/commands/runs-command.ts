/** `hataraku runs list | show ID | resume ID`: the runs recorded in the journal. */
import { UserError } from '../../errors.js';
import type { RunRecord } from '../../journal/journal.js';
import { agentFromSpec } from '../cli-agent.js';
import { type CliIo, openHataraku, positiveIntegerFlag } from '../cli-context.js';
import { totalCost, usd } from '../progress-renderer.js';
import { runAgentFromCli } from '../run-agent.js';

const runStatuses = ['pending', 'completed', 'stopped', 'failed'] as const;

export async function runsListCommand(
  flags: { limit?: string; status?: string; json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const limit = positiveIntegerFlag('--limit', flags.limit, '20') ?? 20;
  const status = flags.status;
  if (status !== undefined && !runStatuses.includes(status as (typeof runStatuses)[number])) {
    throw new UserError('usage', `--status must be one of ${runStatuses.join(', ')} (got ${JSON.stringify(status)}).`);
  }
  const hataraku = openHataraku(io, flags.config);
  try {
    const runs = hataraku.journal.listRuns({ limit, ...(status ? { status: status as RunRecord['status'] } : {}) });
    const rows = runs.map((run) => ({ run, totals: hataraku.journal.totals(run.id) }));
    if (flags.json) {
      for (const { run, totals } of rows) io.stdout.write(`${JSON.stringify({ ...run, totals })}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.stdout.write(`No runs in ${hataraku.config.journal.path}.\n`);
      return 0;
    }
    const table = [
      ['RUN', 'STATUS', 'REASON', 'AGENT', 'MODEL', 'STEPS', 'TOKENS', 'COST', 'STARTED', 'TASK'],
      ...rows.map(({ run, totals }) => [
        run.id,
        run.status,
        run.stopReason ?? '',
        run.agentName,
        shorten(run.model, 32),
        String(totals.steps),
        String(totals.inputTokens + totals.outputTokens),
        totals.unpricedModelCalls > 0 ? `${usd(totals.costUsd)}+?` : usd(totals.costUsd),
        new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19),
        shorten(run.input.replace(/\s+/g, ' '), 40),
      ]),
    ];
    io.stdout.write(formatTable(table));
    return 0;
  } finally {
    hataraku.close();
  }
}

export async function runsShowCommand(
  runId: string,
  flags: { json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  try {
    const run = hataraku.journal.getRun(runId);
    if (!run) throw new UserError('run_not_found', `no run with id ${runId}; list runs with \`hataraku runs list\`.`);
    const steps = hataraku.journal.listSteps(runId);
    const totals = hataraku.journal.totals(runId);
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ ...run, totals, steps })}\n`);
      return 0;
    }
    const lines = [
      `run       ${run.id}`,
      `status    ${run.status}${run.stopReason ? ` (${run.stopReason})` : ''}`,
      `agent     ${run.agentName}`,
      `model     ${run.model}`,
      `task      ${run.input}`,
      ...(run.workspace ? [`workspace ${run.workspace}`] : []),
      `started   ${new Date(run.createdAt).toISOString()}`,
      `updated   ${new Date(run.updatedAt).toISOString()}`,
      `totals    ${totals.modelCalls} model calls, ${totals.toolCalls} tool calls, ${totals.inputTokens} input + ${totals.outputTokens} output tokens (${totals.cachedInputTokens} cached), ${totalCost(totals)}`,
      ...(run.error ? [`error     ${run.error}`] : []),
      '',
      'steps:',
    ];
    for (const step of steps) {
      const detail =
        step.kind === 'model'
          ? `${step.usage?.inputTokens ?? '?'} in / ${step.usage?.outputTokens ?? '?'} out, ${step.costUsd === undefined ? 'cost unknown' : usd(step.costUsd)}`
          : shorten(String((step.output as { content?: unknown }).content ?? '').replace(/\s+/g, ' '), 80);
      lines.push(
        `  ${String(step.index).padStart(3)}  ${step.name.padEnd(20)} ${String(step.finishedAt - step.startedAt).padStart(6)} ms  ${detail}`,
      );
    }
    if (run.output !== undefined) {
      lines.push('', 'output:', typeof run.output === 'string' ? run.output : JSON.stringify(run.output, null, 2));
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    hataraku.close();
  }
}

export async function runsResumeCommand(
  runId: string,
  flags: { json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  try {
    const run = hataraku.journal.getRun(runId);
    if (!run) throw new UserError('run_not_found', `no run with id ${runId}; list runs with \`hataraku runs list\`.`);
    const agent = agentFromSpec(run.spec, run.model);
    const result = await runAgentFromCli({
      hataraku,
      agent,
      io,
      json: flags.json === true,
      start: { resumeRunId: runId },
    });
    return result.status === 'completed' ? 0 : 2;
  } finally {
    hataraku.close();
  }
}

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}
