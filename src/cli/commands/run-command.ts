/** `hataraku run "<task>"`: run the CLI agent on a task in a workspace. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AgentLimits } from '../../agent/agent.js';
import { loadAttachment } from '../../agent/attachments.js';
import { UserError } from '../../errors.js';
import { createCliAgent } from '../cli-agent.js';
import { loadCliConnectors } from '../cli-connectors.js';
import { type CliIo, noModelMessage, openHataraku, positiveIntegerFlag, positiveNumberFlag } from '../cli-context.js';
import { runAgentFromCli } from '../run-agent.js';
import { exitCodeOf } from './runs-command.js';

export interface RunCommandFlags {
  model?: string;
  budget?: string;
  workspace?: string;
  maxSteps?: string;
  json?: boolean;
  config?: string;
  /** False with --no-wait: return when a tool call needs approval. */
  wait?: boolean;
  tenant?: string;
  /** Workspace files to give the model with the task (--attach, repeatable). */
  attach?: string[];
  /** Queue the run for a worker instead of running it here. */
  queue?: boolean;
}

export async function runCommand(task: string, flags: RunCommandFlags, io: CliIo): Promise<number> {
  if (task.trim() === '') {
    throw new UserError('usage', 'the task is empty; write it in quotes, e.g. hataraku run "summarise notes.txt".');
  }
  const budget = positiveNumberFlag('--budget', flags.budget, '0.50');
  const maxSteps = positiveIntegerFlag('--max-steps', flags.maxSteps, '20');
  const hataraku = openHataraku(io, flags.config);
  let closeConnectors = async () => {};
  try {
    const model = flags.model ?? hataraku.config.model;
    if (model === undefined) throw new UserError('model_not_configured', noModelMessage);
    hataraku.model(model); // fail fast on an unknown provider or a missing key
    const workspace = flags.workspace ? resolve(io.cwd, flags.workspace) : hataraku.config.workspace;
    if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
      throw new UserError('usage', `--workspace ${workspace} is not a directory; create it or pick another.`);
    }
    // Read and checked before the run starts, so a bad file costs nothing and leaves no run behind.
    const attachments = (flags.attach ?? []).map((file) => loadAttachment(workspace, file));
    const limits: AgentLimits = { ...hataraku.config.limits };
    if (budget !== undefined) limits.maxCostUsd = budget;
    if (maxSteps !== undefined) limits.maxSteps = maxSteps;
    const connectors = await loadCliConnectors(hataraku.config, { strict: true });
    closeConnectors = connectors.close;
    const agent = createCliAgent({
      config: hataraku.config,
      model,
      limits,
      policies: hataraku.config.policies,
      ...(connectors.loaded ? { connectors: connectors.loaded } : {}),
    });
    if (flags.queue) {
      const queued = await hataraku.submit(agent, task, {
        workspace,
        ...(flags.tenant ? { tenant: flags.tenant } : {}),
        ...(attachments.length > 0 ? { attachments } : {}),
      });
      io.stdout.write(
        `Queued run ${queued.id}: \`hataraku worker\` on any machine sharing this journal runs it; follow it with \`hataraku runs show ${queued.id}\`.\n`,
      );
      return 0;
    }
    const result = await runAgentFromCli({
      hataraku,
      agent,
      io,
      json: flags.json === true,
      waitForApproval: flags.wait !== false,
      start: {
        input: task,
        workspace,
        ...(flags.tenant ? { tenant: flags.tenant } : {}),
        ...(attachments.length > 0 ? { attachments } : {}),
      },
    });
    return exitCodeOf(result.status);
  } finally {
    await closeConnectors();
    await hataraku.close();
  }
}
