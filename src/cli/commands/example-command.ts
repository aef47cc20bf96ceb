/**
 * `hataraku example [name]` (what `npm start` runs): a bundled example end to end, with the
 * configured model; when none is configured, a local model from the model cache if there is one,
 * else the example's scripted demo model.
 */
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { agent } from '../../agent/agent.js';
import { UserError } from '../../errors.js';
import { defaultExampleName, examples } from '../../examples/index.js';
import { listCachedModels } from '../../models/local/model-cache.js';
import { type CliIo, openHataraku } from '../cli-context.js';
import { runAgentFromCli } from '../run-agent.js';
import { exitCodeOf } from './runs-command.js';

export async function exampleCommand(
  name: string | undefined,
  flags: { model?: string; json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const create = examples[name ?? defaultExampleName];
  if (!create) {
    throw new UserError('usage', `no example named "${name}"; the examples are: ${Object.keys(examples).join(', ')}.`);
  }
  const example = create();
  const hataraku = openHataraku(io, flags.config);
  let closeServices = async () => {};
  try {
    const configured = flags.model ?? hataraku.config.model;
    let model = configured;
    const cached = model === undefined ? listCachedModels(hataraku.config.local.modelsDirectory)[0] : undefined;
    if (model === undefined && cached) {
      model = `local:${cached.alias}`;
      if (!flags.json) {
        io.stdout.write(
          `Example ${example.name}: ${example.description}\nNo model configured: using ${model} from the model cache (${hataraku.config.local.modelsDirectory}), run in process.\n\n`,
        );
      }
    }
    if (model === undefined) {
      model = `scripted:${relative(io.cwd, example.demoModelPath)}`;
      if (!flags.json) {
        io.stdout.write(
          `Example ${example.name}: ${example.description}\nNo model configured (set HATARAKU_MODEL, pass --model, or add "model" to hataraku.config.json):\nrunning with the scripted demo model, which replays a capable model's turns.\n\n`,
        );
      }
    }
    hataraku.model(model);
    const runId = `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
    const workspace = join(dirname(hataraku.config.journal.path), 'workspaces', runId);
    cpSync(example.workspaceSource, workspace, { recursive: true });
    const services = await example.startServices?.(workspace);
    if (services) closeServices = services.close;
    const worker = agent({
      name: example.name,
      instructions: example.instructions,
      model,
      tools: [
        // A real model (configured, or local from the cache) drives the example's helpers too.
        ...(model.startsWith('scripted:') || !example.toolsFor ? example.tools : example.toolsFor(model)),
        ...(services?.tools ?? []),
      ],
      limits: { ...example.limits, ...hataraku.config.limits },
      policies: [...hataraku.config.policies, ...(services?.policies ?? [])],
    });
    const result = await runAgentFromCli({
      hataraku,
      agent: worker,
      io,
      json: flags.json === true,
      start: { input: example.task, workspace, runId },
    });
    if (!flags.json) {
      const produced = example.expectedOutputs.filter((output) => existsSync(join(workspace, output)));
      const missing = example.expectedOutputs.filter((output) => !produced.includes(output));
      io.stdout.write(`\nWorkspace: ${relative(io.cwd, workspace) || '.'}\n`);
      for (const output of produced) io.stdout.write(`  ${output}\n`);
      if (missing.length > 0) io.stdout.write(`Not produced: ${missing.join(', ')}\n`);
      io.stdout.write(`See the run: npx hataraku runs show ${result.runId}\n`);
    }
    return exitCodeOf(result.status);
  } finally {
    await closeServices();
    await hataraku.close();
  }
}
