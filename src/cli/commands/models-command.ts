/**
 * `hataraku models pull|list|rm`: the cache of GGUF models that `local:<alias>` runs in process.
 * The cache folder is `local.modelsDir` in config, `HATARAKU_MODELS_DIR`, or
 * `~/.cache/hataraku/models`.
 */
import { loadConfig } from '../../config/load-config.js';
import { listCachedModels, removeCachedModel } from '../../models/local/model-cache.js';
import { pullModel } from '../../models/local/pull-model.js';
import { createThroughputStore, throughputPath } from '../../models/local/throughput-store.js';
import type { CliIo } from '../cli-context.js';
import type { ProgressOutput } from '../progress-renderer.js';

export async function modelsPullCommand(
  source: string,
  flags: { file?: string; sha256?: string; revision?: string; config?: string },
  io: CliIo,
): Promise<number> {
  const config = loadConfig({ cwd: io.cwd, env: io.env, configPath: flags.config });
  const bar = progressBar(io.stderr);
  const result = await pullModel({
    source,
    file: flags.file,
    sha256: flags.sha256,
    revision: flags.revision,
    modelsDirectory: config.local.modelsDirectory,
    env: io.env,
    onProgress: bar.update,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  bar.done();
  const resumed = result.resumedFrom > 0 ? `, resumed from ${megabytes(result.resumedFrom)}` : '';
  const check = result.verified ? 'sha256 checked' : 'no sha256 known to check (pass --sha256 to check one)';
  io.stdout.write(
    `Pulled ${result.alias} (${megabytes(result.bytes)}${resumed}; ${check}).\nRun it: hataraku run --model local:${result.alias} "..."\n`,
  );
  return 0;
}

export async function modelsListCommand(flags: { json?: boolean; config?: string }, io: CliIo): Promise<number> {
  const config = loadConfig({ cwd: io.cwd, env: io.env, configPath: flags.config });
  const models = listCachedModels(config.local.modelsDirectory);
  const throughput = createThroughputStore(throughputPath(config.local.modelsDirectory));
  if (flags.json) {
    for (const model of models) {
      io.stdout.write(`${JSON.stringify({ ...model, throughput: throughput.lookup(model.alias) ?? null })}\n`);
    }
    return 0;
  }
  if (models.length === 0) {
    io.stdout.write(
      `No models in ${config.local.modelsDirectory}. Pull one: hataraku models pull Qwen/Qwen2.5-1.5B-Instruct-GGUF --file qwen2.5-1.5b-instruct-q4_k_m.gguf\n`,
    );
    return 0;
  }
  io.stdout.write(`Models in ${config.local.modelsDirectory}:\n`);
  for (const model of models) {
    const measured = throughput.lookup(model.alias);
    const speed =
      measured?.outputTokensPerSecond === undefined
        ? 'not measured yet'
        : `${measured.outputTokensPerSecond.toFixed(1)} output tokens/s on ${measured.device}`;
    io.stdout.write(`  local:${model.alias}  ${megabytes(model.bytes)}  ${speed}\n`);
  }
  return 0;
}

export async function modelsRmCommand(alias: string, flags: { config?: string }, io: CliIo): Promise<number> {
  const config = loadConfig({ cwd: io.cwd, env: io.env, configPath: flags.config });
  const removed = removeCachedModel(config.local.modelsDirectory, alias);
  io.stdout.write(`Removed ${removed.alias} (${megabytes(removed.bytes)}).\n`);
  return 0;
}

/** A one-line progress bar on a terminal; on anything else, a line every 25%. */
function progressBar(output: ProgressOutput) {
  let lastQuarter = -1;
  let drawn = false;
  return {
    update(received: number, total: number | undefined) {
      const fraction = total ? received / total : undefined;
      if (output.isTTY) {
        const width = 30;
        const filled = fraction === undefined ? 0 : Math.round(fraction * width);
        const percent = fraction === undefined ? '' : ` ${(fraction * 100).toFixed(0).padStart(3)}%`;
        output.write(
          `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${percent} ${megabytes(received)}${total ? ` / ${megabytes(total)}` : ''}`,
        );
        drawn = true;
        return;
      }
      const quarter = fraction === undefined ? -1 : Math.floor(fraction * 4);
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        output.write(`downloaded ${megabytes(received)}${total ? ` of ${megabytes(total)}` : ''}\n`);
      }
    },
    done() {
      if (drawn) output.write('\n');
    },
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
