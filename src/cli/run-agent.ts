/**
 * Running an agent from the CLI: live progress (or JSON lines), Ctrl-C leaving the run pending,
 * and a final summary. Shared by `run`, `runs resume` and `example`.
 */
import type { Agent } from '../agent/agent.js';
import type { Attachment } from '../agent/attachments.js';
import type { RunResult } from '../agent/run.js';
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
  const advice: Record<string, string> = {
    'budget-exceeded':
      'the cost budget is exhausted (the next call would pass it); raise --budget or limits.maxCostUsd',
    'max-steps': 'the step limit was reached; raise --max-steps or limits.maxSteps',
    'max-tokens': 'the token limit was reached; raise limits.maxTokens',
    'max-wall-time': 'the time limit was reached; raise limits.maxWallTimeMs',
    'context-too-large': 'the next request would pass the input-token limit; use a context strategy or raise the limit',
    'repeated-tool-call':
      'the model kept repeating the same tool call with the same arguments; try a stronger model or a clearer task',
    refusal: 'the model declined the task (its words are the output); rephrase the task or use another model',
  };
  const why = advice[result.stopReason] ?? result.stopReason;
  return `run ${result.runId} stopped: ${why}. The partial result is kept in the journal.`;
}
