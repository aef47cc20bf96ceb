/**
 * `hataraku example` (what `npm start` runs): the expense-audit example end to end, with the
 * configured model, or with the scripted demo model when none is configured.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCliAgent } from '../cli-agent.js';
import { type CliIo, openHataraku } from '../cli-context.js';
import { runAgentFromCli } from '../run-agent.js';
import { exitCodeOf } from './runs-command.js';

/** The example folder: `../../../examples` from both `src/cli/commands` and `dist/cli/commands`. */
export const exampleDirectory = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'examples',
  'expense-audit',
);

export const exampleTask =
  'Audit the expenses in expenses.csv: total the spending per category, list every expense over $500 as needing approval, and write the result as a Markdown report to summary.md.';

export async function exampleCommand(
  flags: { model?: string; json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  try {
    let model = flags.model ?? hataraku.config.model;
    if (model === undefined) {
      model = `scripted:${relative(io.cwd, join(exampleDirectory, 'demo-model.json'))}`;
      if (!flags.json) {
        io.stdout.write(
          'No model configured (set HATARAKU_MODEL, pass --model, or add "model" to hataraku.config.json):\nrunning the example with the scripted demo model, which replays recorded turns.\n\n',
        );
      }
    }
    hataraku.model(model);
    const runId = `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    const workspace = join(dirname(hataraku.config.journal.path), 'workspaces', runId);
    cpSync(join(exampleDirectory, 'workspace'), workspace, { recursive: true });
    const agent = createCliAgent({
      config: hataraku.config,
      name: 'expense-auditor',
      model,
      limits: { maxSteps: 12, ...hataraku.config.limits },
      policies: hataraku.config.policies,
    });
    const result = await runAgentFromCli({
      hataraku,
      agent,
      io,
      json: flags.json === true,
      start: { input: exampleTask, workspace, runId },
    });
    if (!flags.json) {
      const summary = join(workspace, 'summary.md');
      io.stdout.write(
        existsSync(summary)
          ? `\nReport: ${relative(io.cwd, summary)}\nSee the run: npx hataraku runs show ${result.runId}\n`
          : `\nThe agent did not write summary.md. See the run: npx hataraku runs show ${result.runId}\n`,
      );
    }
    return exitCodeOf(result.status);
  } finally {
    await hataraku.close();
  }
}
