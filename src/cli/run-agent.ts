/**
 * Running an agent from the CLI: live progress (or JSON lines), Ctrl-C leaving the run pending,
 * and a final summary. Shared by `run`, `runs resume` and `example`.
 */
import type { Agent } from '../agent/agent.js';
import type { Attachment } from '../agent/attachments.js';
import type { RunResult } from '../agent/run.js';
import { stopAdvice } from '../agent/stop-reason.js';
import type { Hataraku } from '../hataraku.js';
import type { CliIo } from './cli-context.js';
import { jsonLinesRenderer, terminalRenderer } from './progress-renderer.js';

export interface CliRunRequest {
  hataraku: Hataraku;
  agent: Agent;
  io: CliIo;
  json: boolean;
  /** Keep waiting (polling) when a tool call needs approval, instead of returning. */
  waitForApproval?: boolean;
  /** A new run's task, or the id of the run to resume. */
  start:
    | { input: string; workspace: string | undefined; runId?: string; tenant?: string; attachments?: Attachment[] }
    | { resumeRunId: string };
}

export async function runAgentFromCli(request: CliRunRequest): Promise<RunResult> {
  const { hataraku, agent, io } = request;
  const render = request.json ? jsonLinesRenderer(io.stdout) : terminalRenderer(io.stdout, io.env);
  const options = {
    onEvent: render,
    approvalWait: request.waitForApproval === false ? ('return' as const) : ('poll' as const),
    ...(io.signal ? { signal: io.signal } : {}),
  };
  const handle =
    'resumeRunId' in request.start
      ? hataraku.resume(agent, request.start.resumeRunId, options)
      : hataraku.run(agent, request.start.input, {
          ...options,
          ...(request.start.workspace ? { workspace: request.start.workspace } : {}),
          ...(request.start.runId ? { runId: request.start.runId } : {}),
          ...(request.start.tenant ? { tenant: request.start.tenant } : {}),
          ...(request.start.attachments ? { attachments: request.start.attachments } : {}),
        });
  const result = await handle.result;
  if (!request.json && result.output !== undefined) {
    const text = typeof result.output === 'string' ? result.output : JSON.stringify(result.output, null, 2);
    io.stdout.write(`\n${text}\n`);
  }
  if (result.status === 'stopped') io.stderr.write(`hataraku: ${stopExplanation(result)}\n`);
  if (result.status === 'waiting') {
    io.stderr.write(
      `hataraku: run ${result.runId} is waiting for approval; decide with \`hataraku runs approve ${result.runId}\` or \`hataraku runs deny ${result.runId} --reason "..."\`, then \`hataraku runs resume ${result.runId}\`.\n`,
    );
  }
  return result;
}

/** One line on why a run stopped early and what to do about it. */
export function stopExplanation(result: RunResult): string {
  const why =
    result.stopReason in stopAdvice ? stopAdvice[result.stopReason as keyof typeof stopAdvice] : result.stopReason;
  return `run ${result.runId} stopped: ${why}. The partial result is kept in the journal.`;
}
