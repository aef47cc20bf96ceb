/**
 * Hataraku's model cache: GGUF files in one folder (`~/.cache/hataraku/models` unless
 * configured), each with a small manifest beside it (`<file>.gguf.json`: where it came from, its
 * sha256). A cached model's alias is its file name without `.gguf`; `local:<alias>` runs it.
 * A download in progress is `<file>.gguf.partial`, resumed by the next pull.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';

/** What `models pull` records about a file. */
export interface ModelManifest {
  source: string;
  sha256: string | undefined;
  bytes: number;
  pulledAt: string;
}

export interface CachedModel {
  alias: string;
  path: string;
  bytes: number;
  manifest: ModelManifest | undefined;
}

/** Aliases are plain file names: no separators, no leading dot, so none can point outside the cache. */
const aliasPattern = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

export function isValidAlias(alias: string): boolean {
  return aliasPattern.test(alias) && !alias.includes('..');
}

export function modelFilePath(modelsDirectory: string, alias: string): string {
  if (!isValidAlias(alias)) {
    throw new UserError(
      'usage',
      `model alias ${JSON.stringify(alias)} is not valid; use letters, digits, ".", "_", "+" and "-" (see \`hataraku models list\`).`,
    );
  }
  return join(modelsDirectory, `${alias}.gguf`);
}

/** The cached models, by alias. Partial downloads are not listed. */
export function listCachedModels(modelsDirectory: string): CachedModel[] {
  let names: string[];
  try {
    names = readdirSync(modelsDirectory);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.gguf'))
    .sort()
    .map((name) => {
      const path = join(modelsDirectory, name);
      return { alias: name.slice(0, -'.gguf'.length), path, bytes: statSync(path).size, manifest: readManifest(path) };
    });
}

/** Delete a cached model, its manifest and any partial download. */
export function removeCachedModel(modelsDirectory: string, alias: string): CachedModel {
  const path = modelFilePath(modelsDirectory, alias);
  const cached = listCachedModels(modelsDirectory).find((model) => model.alias === alias);
  if (!cached && !existsSync(`${path}.partial`)) throw notCached(modelsDirectory, alias);
  for (const file of [path, `${path}.json`, `${path}.partial`]) rmSync(file, { force: true });
  return cached ?? { alias, path, bytes: 0, manifest: undefined };
}

/**
 * The file a `local:` model id names: a path (anything ending in `.gguf` or holding a
 * separator, relative to `cwd`) or an alias in the cache.
 */
export function resolveLocalModelPath(modelId: string, modelsDirectory: string, cwd: string): string {
  const looksLikePath = modelId.endsWith('.gguf') || modelId.includes('/') || modelId.includes('\\');
  if (looksLikePath) {
    const path = isAbsolute(modelId) ? modelId : resolve(cwd, modelId);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new UserError(
        'model_unknown',
        `local:${modelId}: no GGUF file at ${path}; give the path of a .gguf file, or pull one with \`hataraku models pull\`.`,
      );
    }
    return path;
  }
  const path = modelFilePath(modelsDirectory, modelId);
  if (!existsSync(path)) throw notCached(modelsDirectory, modelId);
  return path;
}

export function readManifest(modelPath: string): ModelManifest | undefined {
  try {
    return JSON.parse(readFileSync(`${modelPath}.json`, 'utf8')) as ModelManifest;
  } catch {
    return undefined;
  }
}

function notCached(modelsDirectory: string, alias: string): UserError {
  const known = listCachedModels(modelsDirectory).map((model) => model.alias);
  return new UserError(
    'model_unknown',
    `local:${alias}: no model "${alias}" in the cache ${modelsDirectory}; ${
      known.length > 0 ? `cached: ${known.join(', ')}` : 'it is empty'
    }. Pull one with \`hataraku models pull <hf-repo> --file <name.gguf>\`.`,
  );
}
