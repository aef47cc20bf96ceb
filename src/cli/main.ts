#!/usr/bin/env node
/**
 * The `hataraku` command. User errors (bad flags, config, keys, unreachable endpoints) are one
 * line on stderr and exit status 1; a stack trace is printed only for bugs. Ctrl-C leaves the
 * run pending, to continue with `hataraku runs resume ID`.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { HatarakuError } from '../errors.js';
import type { CliIo } from './cli-context.js';
import { stopQuietlyOnClosedPipe } from './closed-pipe.js';
import { registerMcpServe } from './commands/mcp-serve-options.js';

const packageVersion = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export async function main(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('hataraku')
    .description('Turn language models into workers that finish real tasks, durably and at the lowest cost.')
    .version(packageVersion)
    .option('--config <path>', 'config file (default: ./hataraku.config.json)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const configPath = () => program.opts<{ config?: string }>().config;

  program
    .command('run')
    .description('run an agent on a task, with tools over the workspace')
    .argument('<task>', 'what the agent should do, in quotes')
    .option('-m, --model <name>', 'model, e.g. openai:gpt-4o-mini, anthropic:claude-sonnet-4-5, ollama:qwen2.5:7b')
    .option('--budget <usd>', 'most USD the run may spend')
    .option('--tenant <name>', 'who the run is for: cost roll-ups and tenant budgets')
    .option('--max-steps <n>', 'most model calls')
    .option('-w, --workspace <dir>', 'directory the tools work in (default: current directory)')
    .option('--json', 'print events as JSON lines')
    .option('--no-wait', 'return instead of waiting when a tool call needs approval')
    .option(
      '--attach <file>',
      'give the model an image (PNG, JPEG, GIF, WebP) or PDF from the workspace; repeatable',
      (file: string, files: string[]) => [...files, file],
      [] as string[],
    )
    .option(
      '--queue',
      'queue the run for `hataraku worker` on any machine sharing the journal, instead of running it here',
    )
    .action(async (task: string, flags) => {
      const { runCommand } = await import('./commands/run-command.js');
      exitCode = await runCommand(task, { ...flags, ...withConfig(configPath()) }, io);
    });

  const runs = program.command('runs').description('the runs recorded in the journal');
  runs
    .command('list')
    .description('list recent runs')
    .option('--limit <n>', 'how many', '20')
    .option('--status <status>', 'only runs with this status: pending, waiting, completed, stopped, failed')
    .option('--json', 'print JSON lines')
    .action(async (flags) => {
      const { runsListCommand } = await import('./commands/runs-command.js');
      exitCode = await runsListCommand({ ...flags, ...withConfig(configPath()) }, io);
    });
  runs
    .command('show')
    .description('show a run and its steps')
    .argument('<id>', 'run id')
    .option('--json', 'print JSON')
    .option('--tree', 'show the run and the runs it delegated to, with status, cost and time')
    .action(async (id: string, flags) => {
      const { runsShowCommand } = await import('./commands/runs-command.js');
      exitCode = await runsShowCommand(id, { ...flags, ...withConfig(configPath()) }, io);
    });
  runs
    .command('resume')
    .description('continue an interrupted, waiting or failed run from its last committed step')
    .argument('<id>', 'run id')
    .option('--json', 'print events as JSON lines')
    .option('--no-wait', 'return instead of waiting when a tool call needs approval')
    .action(async (id: string, flags) => {
      const { runsResumeCommand } = await import('./commands/runs-command.js');
      exitCode = await runsResumeCommand(id, { ...flags, ...withConfig(configPath()) }, io);
    });
  runs
    .command('approve')
    .description('approve the tool call a run waits for')
    .argument('<id>', 'run id')
    .option('--step <n>', 'the step to approve, when the run waits for several')
    .option('--as <name>', 'who approves (default: $HATARAKU_USER or $USER)')
    .option('--note <text>', 'a note for the audit log')
    .action(async (id: string, flags) => {
      const { runsDecideCommand } = await import('./commands/runs-command.js');
      exitCode = await runsDecideCommand(id, 'approve', { ...flags, ...withConfig(configPath()) }, io);
    });
  runs
    .command('deny')
    .description('deny the tool call a run waits for; the model is told the reason')
    .argument('<id>', 'run id')
    .requiredOption('--reason <text>', 'why, shown to the model and kept in the audit log')
    .option('--step <n>', 'the step to deny, when the run waits for several')
    .option('--as <name>', 'who denies (default: $HATARAKU_USER or $USER)')
    .action(async (id: string, flags) => {
      const { runsDecideCommand } = await import('./commands/runs-command.js');
      exitCode = await runsDecideCommand(id, 'deny', { ...flags, ...withConfig(configPath()) }, io);
    });
  runs
    .command('feedback')
    .description("record whether a run's result was right: the labels `routes train --from ledger` learns from")
    .argument('<id>', 'run id')
    .option('--solved', 'the result solved the task')
    .option('--failed', 'the result did not solve the task')
    .option('--note <text>', 'why, kept with the feedback')
    .option('--as <name>', 'who says so (default: $HATARAKU_USER or $USER)')
    .action(async (id: string, flags) => {
      const { runsFeedbackCommand } = await import('./commands/runs-command.js');
      exitCode = await runsFeedbackCommand(id, { ...flags, ...withConfig(configPath()) }, io);
    });
  runs
    .command('recover')
    .description('resume the runs a dead process left open, and waiting runs whose approvals are decided')
    .option('--json', 'print the report as JSON')
    .action(async (flags) => {
      const { runsRecoverCommand } = await import('./commands/runs-command.js');
      exitCode = await runsRecoverCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  program
    .command('worker')
    .description(
      "take runs from the journal's shared queue: queued runs, dead processes' runs, and approved waiting runs",
    )
    .option('--interval <seconds>', 'how often to look for runs to recover', '5')
    .option('--once', 'take runs until none is left to take, finish them, and exit')
    .option('--concurrency <n>', 'most runs this worker executes at once', '8')
    .option('--tenant-concurrency <n>', 'most runs of one tenant executed at once, by all workers together')
    .action(async (flags) => {
      const { workerCommand } = await import('./commands/worker-command.js');
      exitCode = await workerCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  program
    .command('journal')
    .description('manage the journal itself')
    .command('migrate')
    .description('copy the journal from a SQLite file into an empty PostgreSQL database, in one transaction')
    .requiredOption('--from <kind>', 'the journal to copy from: sqlite')
    .requiredOption('--to <kind>', 'the journal to copy to: postgres')
    .option('--sqlite <path>', 'the SQLite file (default: the configured journal)')
    .option('--url <url>', 'the PostgreSQL database (default: HATARAKU_DATABASE_URL, else journal.url)')
    .option('--json', 'print the report as JSON')
    .action(async (flags) => {
      const { journalMigrateCommand } = await import('./commands/journal-command.js');
      exitCode = await journalMigrateCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  program
    .command('serve')
    .description('serve the Runs API, the OpenAI-compatible gateway (/v1) and MCP (/mcp), with recovery built in')
    .option('--port <n>', 'port to listen on (0: any free port)', '8787')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--dev', 'serve requests without an API key (loopback addresses only)')
    .option('--shared-workspace', 'runs work in the configured workspace (default: a new directory per run)')
    .option('--max-body-bytes <n>', 'largest request body', '1048576')
    .option('--max-concurrent-requests <n>', 'most requests handled at once', '256')
    .option(
      '--no-relay',
      'translate every gateway call through the model layer (default: pass OpenAI-compatible calls through)',
    )
    .action(async (flags) => {
      const { serveCommand } = await import('./commands/serve-command.js');
      exitCode = await serveCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  const keys = program.command('keys').description("the server's API keys (stored hashed; shown once)");
  keys
    .command('create')
    .description('create an API key bound to a tenant, and print it once')
    .argument('<name>', 'a unique name, recorded as the actor of its approvals')
    .requiredOption('--tenant <name>', 'who the key is for: its runs and calls are recorded under this tenant')
    .option('--budget-day <usd>', 'most USD the tenant may spend per UTC day through the server')
    .option('--budget-month <usd>', 'most USD the tenant may spend per UTC month through the server')
    .option('--rate-limit <n>', 'most requests per minute')
    .option('--agents <names>', 'comma-separated agents the key may run (default: all)')
    .option(
      '--models <names>',
      'comma-separated models and routes the key may call (default: all; "openai:*" patterns)',
    )
    .option('--json', 'print the key as JSON')
    .action(async (name: string, flags) => {
      const { keysCreateCommand } = await import('./commands/keys-command.js');
      exitCode = await keysCreateCommand(name, { ...flags, ...withConfig(configPath()) }, io);
    });
  keys
    .command('list')
    .description('list the keys (never their secrets)')
    .option('--json', 'print JSON lines')
    .action(async (flags) => {
      const { keysListCommand } = await import('./commands/keys-command.js');
      exitCode = await keysListCommand({ ...flags, ...withConfig(configPath()) }, io);
    });
  keys
    .command('revoke')
    .description('revoke a key by name or id')
    .argument('<name>', 'key name or id (hk_…)')
    .action(async (name: string) => {
      const { keysRevokeCommand } = await import('./commands/keys-command.js');
      exitCode = await keysRevokeCommand(name, withConfig(configPath()), io);
    });

  program
    .command('costs')
    .description('spend from the cost ledger, grouped by model, agent, day, run (with child runs) or tenant')
    .option('--by <grouping>', 'model, agent, day, run or tenant', 'model')
    .option('--since <when>', 'a date (2026-11-01) or a duration back from now (7d, 24h)')
    .option('--json', 'print JSON lines')
    .action(async (flags) => {
      const { costsCommand } = await import('./commands/costs-command.js');
      exitCode = await costsCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  const models = program.command('models').description('GGUF models cached for local:<alias> (run in process)');
  models
    .command('pull')
    .description('download a GGUF file from a Hugging Face repository or a URL into the cache (resumable)')
    .argument('<source>', 'owner/name of a Hugging Face repository, or an http(s) URL')
    .option('--file <name>', 'the .gguf file in the repository')
    .option('--sha256 <hex>', 'expected sha256 (default: the one Hugging Face reports)')
    .option('--revision <rev>', 'repository revision', 'main')
    .action(async (source: string, flags) => {
      const { modelsPullCommand } = await import('./commands/models-command.js');
      exitCode = await modelsPullCommand(source, { ...flags, ...withConfig(configPath()) }, io);
    });
  models
    .command('list')
    .description('list cached models and the throughput measured for them here')
    .option('--json', 'print JSON lines')
    .action(async (flags) => {
      const { modelsListCommand } = await import('./commands/models-command.js');
      exitCode = await modelsListCommand({ ...flags, ...withConfig(configPath()) }, io);
    });
  models
    .command('rm')
    .description('delete a cached model')
    .argument('<alias>', 'the alias shown by `models list`')
    .action(async (alias: string) => {
      const { modelsRmCommand } = await import('./commands/models-command.js');
      exitCode = await modelsRmCommand(alias, withConfig(configPath()), io);
    });

  program
    .command('tools')
    .description('the tools an agent gets from this configuration')
    .command('list')
    .description('list built-in and connector tools with their source, effect and policy')
    .option('--json', 'print JSON lines')
    .action(async (flags) => {
      const { toolsListCommand } = await import('./commands/tools-command.js');
      exitCode = await toolsListCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  const mcp = program
    .command('mcp')
    .description('Model Context Protocol: the configured MCP servers, and agents served over MCP');
  registerMcpServe(mcp, async (flags) => {
    const { mcpServeCommand } = await import('./commands/mcp-serve-command.js');
    exitCode = await mcpServeCommand({ ...flags, ...withConfig(configPath()) }, io);
  });
  mcp
    .command('list')
    .description('start each configured MCP server and list its status and tools')
    .option('--json', 'print JSON lines')
    .action(async (flags) => {
      const { mcpListCommand } = await import('./commands/mcp-command.js');
      exitCode = await mcpListCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  program
    .command('example')
    .description(
      'run a bundled example end to end (what `npm start` runs): sales-report, expense-audit, restock, quarterly-brief',
    )
    .argument('[name]', 'which example (default: sales-report)')
    .option('-m, --model <name>', 'model to use (default: the configured one, else the scripted demo model)')
    .option('--json', 'print events as JSON lines')
    .action(async (name: string | undefined, flags) => {
      const { exampleCommand } = await import('./commands/example-command.js');
      exitCode = await exampleCommand(name, { ...flags, ...withConfig(configPath()) }, io);
    });

  const collect = (value: string, previous: string[] = []) => [...previous, value];
  program
    .command('eval')
    .description('run a suite of tasks against models and routes; report success and cost per solved task')
    .argument('[suite]', 'suite file (.yaml or .json), e.g. evals/toolchain/suite.yaml')
    .option(
      '-m, --model <name>',
      "a model, route:<name>, or demo (the tasks' scripted demo models); repeat for more",
      collect,
    )
    .option('--repeat <n>', 'attempts per task and model (default 1)')
    .option('--concurrency <n>', 'attempts running at once (default 1)')
    .option('--budget <usd>', 'most USD one attempt may spend')
    .option('--grader <model>', 'model for model-graded checks (skipped without one)')
    .option('--id <id>', 'eval id (default: generated)')
    .option('--resume <id>', 'continue an interrupted eval')
    .option('--out <dir>', 'where to write report.md, report.json and chart.svg/png')
    .option('--compare <reports...>', 'compare two report.json files: before after')
    .option('--no-chart', 'do not draw the chart')
    .option('--json', 'print JSON lines')
    .action(async (suite: string | undefined, flags) => {
      const { evalCommand } = await import('./commands/eval-command.js');
      exitCode = await evalCommand(suite, { ...flags, ...withConfig(configPath()) }, io);
    });

  const routes = program.command('routes').description('learned routes: fit from your own outcomes, replay');
  routes
    .command('train')
    .description(
      'fit a learned router from an eval, a JSONL of outcomes or the labelled runs of the ledger, and add it to the config as a route',
    )
    .requiredOption('--from <source>', 'an eval id, an eval report.json, a .jsonl of outcomes, or ledger')
    .option('--weak <model>', 'the cheap model (as named in the eval)')
    .option('--strong <model>', 'the strong model (as named in the eval)')
    .option('--route <name>', 'with --from ledger: the cascade route the labelled runs went through')
    .option('--since <date>', 'with --from ledger: only feedback recorded since this date (YYYY-MM-DD or ISO time)')
    .option(
      '--assume-strong-right',
      'with --from ledger: count runs the cheap model answered alone as solved by the strong model too',
    )
    .option('--tenant <name>', "with --from ledger: only this tenant's runs")
    .option('--all-tenants', 'with --from ledger: learn from the runs of every tenant together')
    .option(
      '--labelled-by <actor>',
      'with --from ledger: only feedback by this actor (key:ops, a user); repeatable',
      collect,
    )
    .option('--limit <n>', 'with --from ledger: the most labelled runs read, newest first (default 20000)')
    .option('--name <route>', 'route name (default: learned)')
    .option('--kind <kind>', 'cascade (decides on the cheap answer) or route (on the prompt alone)', 'cascade')
    .option('--answer <format>', 'answer format: number, integer, choice:ABCD, json:<field>, regex:<pattern>', 'number')
    .option('--target <share>', "target quality as a share of the strong model's (default 0.95)")
    .option('--margin <share>', 'a fixed safety margin on the training data, or auto (default: bootstrap)')
    .option('--confidence <share>', 'for --margin auto: confidence of reaching the target (default 0.9)')
    .option('--objective <objective>', 'gain-per-dollar (default) or gain')
    .option('--json', 'print JSON')
    .action(async (flags) => {
      const { routesTrainCommand } = await import('./commands/routes-command.js');
      exitCode = await routesTrainCommand({ ...flags, ...withConfig(configPath()) }, io);
    });
  routes
    .command('eval')
    .description('replay a learned router on recorded outcomes: quality reached, share escalated, dollars saved')
    .requiredOption('--from <source>', 'an eval id, an eval report.json, a .jsonl of outcomes, or ledger')
    .option('--route <name>', 'with --from ledger: the cascade route the labelled runs went through')
    .option('--since <date>', 'with --from ledger: only feedback recorded since this date')
    .option('--assume-strong-right', 'with --from ledger: see routes train')
    .option('--tenant <name>', 'with --from ledger: see routes train')
    .option('--all-tenants', 'with --from ledger: see routes train')
    .option('--labelled-by <actor>', 'with --from ledger: see routes train; repeatable', collect)
    .option('--limit <n>', 'with --from ledger: see routes train')
    .option('--name <route>', 'the learned route to replay (default: learned)')
    .option('--router <path>', 'a router file instead of a configured route')
    .option('--weak <model>', 'the cheap model (as named in the eval)')
    .option('--strong <model>', 'the strong model (as named in the eval)')
    .option('--json', 'print JSON')
    .action(async (flags) => {
      const { routesEvalCommand } = await import('./commands/routes-command.js');
      exitCode = await routesEvalCommand({ ...flags, ...withConfig(configPath()) }, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (error instanceof HatarakuError) {
      io.stderr.write(`hataraku: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function withConfig(config: string | undefined): { config?: string } {
  return config === undefined ? {} : { config };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith('/cli/main.js');
if (invokedDirectly) {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nInterrupting: the run stays pending; resume it with `hataraku runs resume ID`.\n');
    controller.abort();
  });
  stopQuietlyOnClosedPipe(process.stdout, (code) => process.exit(code));
  main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `hataraku: internal error (a bug; please report it):\n${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.exitCode = 70;
    },
  );
}
