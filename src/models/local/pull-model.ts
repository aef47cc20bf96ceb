/**
 * `models pull`: download a GGUF file into the model cache, from a Hugging Face repository
 * (`owner/name` with `--file`) or any http(s) URL.
 *
 * - Resumable: bytes land in `<file>.gguf.partial`; the next pull asks for the rest with an HTTP
 *   Range request (and starts over if the server ignores it).
 * - Checked: the sha256 of the whole file must match the one the Hugging Face API gives for it
 *   (the LFS object id) or `--sha256`; a mismatch deletes the partial file.
 * - Hugging Face's address is `HF_ENDPOINT` (default https://huggingface.co), its token `HF_TOKEN`
 *   for gated repositories, both as the Hugging Face tools read them.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../../errors.js';
import { isValidAlias, type ModelManifest, modelFilePath } from './model-cache.js';

export interface PullOptions {
  /** `owner/name` (a Hugging Face repository) or an http(s) URL of a .gguf file. */
  source: string;
  /** The file in the repository; required for a repository with more than one .gguf file. */
  file?: string | undefined;
  /** Expected sha256 (hex); overrides the one from the Hugging Face API. */
  sha256?: string | undefined;
  /** Git revision in the repository (default `main`). */
  revision?: string | undefined;
  modelsDirectory: string;
  /** `HF_ENDPOINT` and `HF_TOKEN`. */
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof globalThis.fetch;
  /** Called as bytes arrive: received so far (including a resumed part) and the total when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

export interface PullResult {
  alias: string;
  path: string;
  bytes: number;
  /** Bytes already on disk from an earlier, interrupted pull. */
  resumedFrom: number;
  sha256: string;
  /** Whether the sha256 was compared with a known one. */
  verified: boolean;
}

interface RemoteFile {
  url: string;
  fileName: string;
  sha256: string | undefined;
}

export async function pullModel(options: PullOptions): Promise<PullResult> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const token = options.env.HF_TOKEN;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const remote = await locate(options, fetchImpl, headers);
  if (!remote.fileName.endsWith('.gguf')) {
    throw new UserError('usage', `${remote.fileName} is not a .gguf file; pick a GGUF file with --file.`);
  }
  const alias = remote.fileName.slice(0, -'.gguf'.length);
  if (!isValidAlias(alias)) {
    throw new UserError(
      'usage',
      `the file name ${JSON.stringify(remote.fileName)} cannot be a cache alias; rename it.`,
    );
  }
  const expected = (options.sha256 ?? remote.sha256)?.toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new UserError('usage', `--sha256 must be 64 hexadecimal characters (got ${JSON.stringify(options.sha256)}).`);
  }
  mkdirSync(options.modelsDirectory, { recursive: true });
  const path = modelFilePath(options.modelsDirectory, alias);
  const partial = `${path}.partial`;
  const resumedFrom = sizeOf(partial);

  const response = await request(fetchImpl, remote.url, {
    headers: { ...headers, ...(resumedFrom > 0 ? { range: `bytes=${resumedFrom}-` } : {}) },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status === 416 && resumedFrom > 0) {
    // The partial file is already complete (or longer than the file): check it below.
    await response.body?.cancel();
  } else {
    if (!response.ok) throw httpError(remote.url, response.status);
    const resuming = resumedFrom > 0 && response.status === 206;
    const start = resuming ? resumedFrom : 0;
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    const total = Number.isFinite(length) ? start + length : undefined;
    const file = openSync(partial, resuming ? 'a' : 'w');
    let received = start;
    try {
      if (response.body) {
        for await (const chunk of response.body) {
          writeSync(file, chunk);
          received += chunk.length;
          options.onProgress?.(received, total);
        }
      }
    } catch (error) {
      throw new UserError(
        'model_unreachable',
        `download of ${remote.url} stopped at ${received} bytes (${(error as Error).message}); run the same pull again to resume.`,
        { cause: error },
      );
    } finally {
      closeSync(file);
    }
    if (total !== undefined && received < total) {
      throw new UserError(
        'model_unreachable',
        `download of ${remote.url} stopped at ${received} of ${total} bytes; run the same pull again to resume.`,
      );
    }
  }

  const sha256 = await hashFile(partial);
  if (expected !== undefined && sha256 !== expected) {
    rmSync(partial, { force: true });
    throw new UserError(
      'model_bad_response',
      `${remote.fileName}: checksum mismatch (sha256 ${sha256}, expected ${expected}); the download was deleted, run the pull again.`,
    );
  }
  renameSync(partial, path);
  const bytes = statSync(path).size;
  const manifest: ModelManifest = { source: remote.url, sha256, bytes, pulledAt: new Date().toISOString() };
  writeFileSync(`${path}.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  return { alias, path, bytes, resumedFrom, sha256, verified: expected !== undefined };
}

async function locate(
  options: PullOptions,
  fetchImpl: typeof globalThis.fetch,
  headers: Record<string, string>,
): Promise<RemoteFile> {
  if (/^https?:\/\//.test(options.source)) {
    const url = new URL(options.source);
    return { url: url.href, fileName: options.file ?? decodeURIComponent(basename(url.pathname)), sha256: undefined };
  }
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(options.source)) {
    throw new UserError(
      'usage',
      `${JSON.stringify(options.source)} is neither a Hugging Face repository (owner/name) nor an http(s) URL.`,
    );
  }
  const endpoint = (options.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = options.revision ?? 'main';
  const listing = await request(fetchImpl, `${endpoint}/api/models/${options.source}/tree/${revision}`, { headers });
  if (!listing.ok) throw httpError(`${endpoint}/${options.source}`, listing.status);
  const entries = (await listing.json()) as Array<{ type?: string; path?: string; lfs?: { oid?: string } }>;
  const ggufs = entries.filter((entry) => entry.type === 'file' && entry.path?.endsWith('.gguf'));
  const chosen = options.file
    ? ggufs.find((entry) => entry.path === options.file)
    : ggufs.length === 1
      ? ggufs[0]
      : undefined;
  if (!chosen?.path) {
    const names = ggufs.map((entry) => entry.path).join(', ');
    throw new UserError(
      'usage',
      options.file
        ? `${options.source} has no file ${options.file}; its GGUF files: ${names || 'none'}.`
        : `${options.source} has ${ggufs.length} GGUF files; pick one with --file (${names || 'none'}).`,
    );
  }
  return {
    url: `${endpoint}/${options.source}/resolve/${revision}/${chosen.path.split('/').map(encodeURIComponent).join('/')}`,
    fileName: basename(chosen.path),
    sha256: chosen.lfs?.oid,
  };
}

async function request(fetchImpl: typeof globalThis.fetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, { ...init, redirect: 'follow' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(
      'model_unreachable',
      `cannot reach ${new URL(url).host} (${cause?.code ?? cause?.message ?? (error as Error).message}); check the network (offline?), or copy a .gguf file here and use local:<path>.`,
      { cause: error },
    );
  }
}

function httpError(url: string, status: number): UserError {
  if (status === 401 || status === 403) {
    return new UserError(
      'model_auth',
      `${url}: access denied (${status}); for a gated repository accept its terms and set HF_TOKEN.`,
    );
  }
  if (status === 404)
    return new UserError('model_unknown', `${url}: not found (404); check the repository and file names.`);
  return new UserError('model_unreachable', `${url}: the server answered ${status}; try again later.`);
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
