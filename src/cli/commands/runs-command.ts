/**
 * `hataraku runs list | show | resume | approve | deny | recover | feedback`: the runs recorded
 * in the journal, the decisions they wait for, and whether their results were right.
 */

import { formatRunTree, loadRunTree, pendingApprovalsInTree, type RunTreeNode } from '../../decomposition/run-tree.js';
import type { RunRecord } from '../../engine/engine.js';
import { describeUrl } from '../../engine/postgres/connection.js';
import { UserError } from '../../errors.js';
import { examples } from '../../examples/index.js';
import type { Tool } from '../../tools/tool.js';
import { agentFromSpec } from '../cli-agent.js';
import { loadCliConnectors } from '../cli-connectors.js';
import { type CliIo, openHataraku, positiveIntegerFlag } from '../cli-context.js';
import { totalCost, usd } from '../progress-renderer.js';
import { runAgentFromCli } from '../run-agent.js';

const runStatuses = ['pending', 'waiting', 'completed', 'stopped', 'failed'] as const;

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
    const engine = hataraku.engine;
    const runs = await engine.listRuns({ limit, ...(status ? { status: status as RunRecord['status'] } : {}) });
    const rows = await Promise.all(runs.map(async (run) => ({ run, totals: await engine.totals(run.id) })));
    if (flags.json) {
      for (const { run, totals } of rows) io.stdout.write(`${JSON.stringify({ ...run, totals })}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.stdout.write(
        `No runs in ${hataraku.config.journal.url ? describeUrl(hataraku.config.journal.url) : hataraku.config.journal.path}.\n`,
      );
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
    await hataraku.close();
  }
}

export async function runsShowCommand(
  runId: string,
  flags: { json?: boolean; tree?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  try {
    const engine = hataraku.engine;
    const run = await engine.getRun(runId);
    if (!run) throw new UserError('run_not_found', `no run with id ${runId}; list runs with \`hataraku runs list\`.`);
    if (flags.tree) {
      const tree = (await loadRunTree(engine, runId)) as RunTreeNode;
      const waiting = await pendingApprovalsInTree(engine, runId);
      if (flags.json) {
        io.stdout.write(`${JSON.stringify({ ...tree, pendingApprovals: waiting })}\n`);
        return 0;
      }
      io.stdout.write(formatRunTree(tree, usd));
      for (const approval of waiting) {
        io.stdout.write(
          `waiting: run ${approval.runId} step ${approval.stepIndex} ${approval.toolName} (${approval.reason}); decide with \`hataraku runs approve ${runId}\`\n`,
        );
      }
      return 0;
    }
    const [steps, totals, approvals, audit, artifacts, children, waitingBelow] = await Promise.all([
      engine.listSteps(runId),
      engine.totals(runId),
      engine.listApprovals({ runId }),
      engine.listAudit({ runId }),
      engine.listArtifacts(runId),
      engine.listChildRuns(runId),
      pendingApprovalsInTree(engine, runId).then((all) => all.filter((approval) => approval.runId !== runId)),
    ]);
    if (flags.json) {
      const delegated = children.map((child) => ({ id: child.id, agentName: child.agentName, status: child.status }));
      io.stdout.write(
        `${JSON.stringify({ ...run, totals, steps, approvals, audit, artifacts, children: delegated, delegatedApprovals: waitingBelow })}\n`,
      );
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
    if (approvals.length > 0) {
      lines.push('', 'approvals:');
      for (const approval of approvals) {
        const decided = approval.decidedBy
          ? ` by ${approval.decidedBy}${approval.note ? ` (${approval.note})` : ''}`
          : '';
        const deadline =
          approval.deadline && approval.status === 'pending'
            ? `, default ${approval.defaultOutcome} at ${new Date(approval.deadline).toISOString()}`
            : '';
        lines.push(
          `  step ${approval.stepIndex}  ${approval.toolName} ${shorten(JSON.stringify(approval.input), 60)}  ${approval.status}${decided}${deadline}  — ${approval.reason}`,
        );
      }
    }
    if (children.length > 0) {
      lines.push('', `delegated (see \`hataraku runs show ${runId} --tree\`):`);
      for (const child of children) lines.push(`  ${child.id}  ${child.agentName}  ${child.status}`);
    }
    for (const approval of waitingBelow) {
      lines.push(
        `  waiting: ${approval.runId} step ${approval.stepIndex} ${approval.toolName} (${approval.reason}); decide with \`hataraku runs approve ${runId}\``,
      );
    }
    if (audit.length > 0) {
      lines.push('', 'audit:');
      for (const entry of audit) {
        lines.push(
          `  ${new Date(entry.at).toISOString()}  ${entry.action.padEnd(18)} ${entry.actor.padEnd(10)} step ${entry.stepIndex ?? '-'} ${entry.toolName ?? ''} cost so far ${usd(entry.costUsdSoFar)}${entry.note ? `  ${entry.note}` : ''}`,
        );
      }
    }
    if (artifacts.length > 0) {
      lines.push('', 'artifacts:');
      for (const artifact of artifacts) lines.push(`  ${artifact.path}  ${artifact.mediaType}`);
    }
    if (run.output !== undefined) {
      lines.push('', 'output:', typeof run.output === 'string' ? run.output : JSON.stringify(run.output, null, 2));
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    await hataraku.close();
  }
}

export async function runsResumeCommand(
  runId: string,
  flags: { json?: boolean; config?: string; wait?: boolean },
  io: CliIo,
): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  let closeConnectors = async () => {};
  try {
    const run = await hataraku.engine.getRun(runId);
    if (!run) throw new UserError('run_not_found', `no run with id ${runId}; list runs with \`hataraku runs list\`.`);
    const connectors = await loadCliConnectors(hataraku.config, { strict: true });
    closeConnectors = connectors.close;
    const agent = agentFromSpec(
      run.spec,
      run.model,
      hataraku.config,
      connectors.loaded,
      exampleTools(run.agentName, run.model),
    );
    const result = await runAgentFromCli({
      hataraku,
      agent,
      io,
      json: flags.json === true,
      waitForApproval: flags.wait !== false,
      start: { resumeRunId: runId },
    });
    return exitCodeOf(result.status);
  } finally {
    await closeConnectors();
    await hataraku.close();
  }
}

export async function runsDecideCommand(
  runId: string,
  outcome: 'approve' | 'deny',
  flags: { step?: string; as?: string; reason?: string; note?: string; config?: string },
  io: CliIo,
): Promise<number> {
  const stepIndex = flags.step === undefined ? undefined : Number(flags.step);
  if (stepIndex !== undefined && !(Number.isInteger(stepIndex) && stepIndex >= 0)) {
    throw new UserError('usage', `--step must be a step number, e.g. --step 3 (got ${JSON.stringify(flags.step)}).`);
  }
  if (outcome === 'deny' && (flags.reason === undefined || flags.reason.trim() === '')) {
    throw new UserError('usage', 'a denial needs a reason the model will see: --reason "..."');
  }
  const hataraku = openHataraku(io, flags.config);
  try {
    if (!(await hataraku.engine.getRun(runId))) {
      throw new UserError('run_not_found', `no run with id ${runId}; list runs with \`hataraku runs list\`.`);
    }
    const common = { ...(stepIndex !== undefined ? { stepIndex } : {}), ...(flags.as ? { actor: flags.as } : {}) };
    const result =
      outcome === 'approve'
        ? await hataraku.approve(runId, { ...common, ...(flags.note ? { note: flags.note } : {}) })
        : await hataraku.deny(runId, { ...common, reason: flags.reason as string });
    const { approval } = result;
    if (result.kind === 'ignored') {
      io.stdout.write(
        `Step ${approval.stepIndex} of run ${approval.runId} was already ${approval.status} by ${approval.decidedBy ?? 'someone'}; this ${outcome === 'approve' ? 'approval' : 'denial'} is ignored.\n`,
      );
      return 0;
    }
    io.stdout.write(
      `${approval.status === 'approved' ? 'Approved' : 'Denied'} step ${approval.stepIndex} of run ${approval.runId} (${approval.toolName})${approval.runId === runId ? '' : `, a task delegated by ${runId}`}. It takes effect when the run continues: a process waiting on it picks it up, or run \`hataraku runs resume ${runId}\`.\n`,
    );
    return 0;
  } finally {
    await hataraku.close();
  }
}

/**
 * `hataraku runs feedback <id> --solved|--failed [--note TEXT]`: record whether a run's result
 * was right, the label `hataraku routes train --from ledger` learns from.
 */
export async function runsFeedbackCommand(
  runId: string,
  flags: { solved?: boolean; failed?: boolean; note?: string; as?: string; config?: string },
  io: CliIo,
): Promise<number> {
  if (flags.solved === flags.failed || (flags.solved !== true && flags.failed !== true)) {
    throw new UserError('usage', 'say whether the run solved its task: --solved or --failed (one of them).');
  }
  const hataraku = openHataraku(io, flags.config);
  try {
    const run = await hataraku.engine.getRun(runId);
    if (run === undefined) {
      throw new UserError('run_not_found', `no run with id ${runId}; list runs with \`hataraku runs list\`.`);
    }
    if (run.status === 'pending' || run.status === 'waiting') {
      throw new UserError(
        'usage',
        `run ${runId} is ${run.status}; feedback is on a result, so give it once the run has ended.`,
      );
    }
    const actor = flags.as ?? io.env.HATARAKU_USER ?? io.env.USER ?? io.env.LOGNAME ?? 'unknown';
    const feedback = await hataraku.engine.recordFeedback(runId, {
      solved: flags.solved === true,
      actor,
      ...(flags.note === undefined ? {} : { note: flags.note }),
    });
    if (feedback === undefined) {
      throw new UserError('run_not_found', `no run with id ${runId}; list runs with \`hataraku runs list\`.`);
    }
    io.stdout.write(
      `Recorded: run ${runId} ${feedback.solved ? 'solved' : 'failed'} its task (by ${feedback.actor}). Routers learn from it with \`hataraku routes train --from ledger\`.\n`,
    );
    return 0;
  } finally {
    await hataraku.close();
  }
}

export async function runsRecoverCommand(flags: { json?: boolean; config?: string }, io: CliIo): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  const connectors = await loadCliConnectors(hataraku.config, { strict: false });
  try {
    const report = await hataraku.recover({
      agentFor: (run) => {
        try {
          return agentFromSpec(run.spec, run.model, hataraku.config, connectors.loaded);
        } catch {
          return undefined;
        }
      },
    });
    if (flags.json) {
      io.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      for (const result of report.results)
        io.stdout.write(`${result.runId}  ${result.status} (${result.stopReason})\n`);
      for (const skipped of report.skipped) io.stdout.write(`${skipped.runId}  skipped: ${skipped.reason}\n`);
      if (report.results.length === 0 && report.skipped.length === 0) io.stdout.write('No runs to recover.\n');
    }
    return 0;
  } finally {
    await connectors.close();
    await hataraku.close();
  }
}

/** A bundled example's tools (its delegating tools hold agents the CLI cannot rebuild from a spec). */
function exampleTools(agentName: string, model: string): Tool[] {
  const example = examples[agentName]?.();
  if (!example) return [];
  return !model.startsWith('scripted:') && example.toolsFor ? example.toolsFor(model) : example.tools;
}

export function exitCodeOf(status: string): number {
  if (status === 'completed') return 0;
  if (status === 'waiting') return 3;
  return 2;
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
