/**
 * Limits of the workspace file tools. Each tool states in its output when one of them cut the
 * answer short, so a model knows to narrow its next call instead of trusting a partial answer.
 */

import type { ProtectedPaths } from './protected-paths.js';

/** Options of {@link createFileTools}; every limit has a default fit for a model's context. */
export interface FileToolOptions {
  /** Most entries `files.list` shows (default 500). */
  maxListedEntries?: number;
  /** Most bytes of text `files.read` returns in one call (default 100 000). */
  maxReadBytes?: number;
  /**
   * Most bytes `files.read` scans to reach `startLine` (default 64 MiB); past it the model is
   * told to find the place with `files.search` instead. Keeps a read of a huge file bounded.
   */
  maxReadScanBytes?: number;
  /** Largest content `files.write` accepts, in bytes (default 10 MiB). */
  maxWriteBytes?: number;
  /** Largest file `files.edit` rewrites, in bytes (default 10 MiB). */
  maxEditBytes?: number;
  /** Most matching lines `files.search` returns (default 200). */
  maxSearchMatches?: number;
  /** Files larger than this are skipped by `files.search`, in bytes (default 10 MiB). */
  maxSearchFileBytes?: number;
  /** Most files `files.search` opens in one call (default 5 000). */
  maxSearchFiles?: number;
  /**
   * Wall-clock limit of one `files.search`, in milliseconds (default 10 000). The search runs in
   * a worker thread that is terminated at the limit, so a pathological pattern cannot stall the
   * host process.
   */
  searchTimeoutMs?: number;
  /**
   * Entries no file tool may read, write, list or search (default: {@link defaultProtectedPatterns}
   * of `protected-paths.ts`). Build it with `createProtectedPaths`.
   */
  protectedPaths?: ProtectedPaths;
}

export type FileToolLimits = Required<Omit<FileToolOptions, 'protectedPaths'>>;

const defaults: FileToolLimits = {
  maxListedEntries: 500,
  maxReadBytes: 100_000,
  maxReadScanBytes: 64 * 1024 * 1024,
  maxWriteBytes: 10 * 1024 * 1024,
  maxEditBytes: 10 * 1024 * 1024,
  maxSearchMatches: 200,
  maxSearchFileBytes: 10 * 1024 * 1024,
  maxSearchFiles: 5_000,
  searchTimeoutMs: 10_000,
};

/**
 * Fill in defaults and check the options.
 * @throws RangeError naming the option when a limit is not a positive integer.
 */
export function resolveFileToolLimits(options: FileToolOptions = {}): FileToolLimits {
  const limits = { ...defaults };
  for (const key of Object.keys(defaults) as Array<keyof FileToolLimits>) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`createFileTools(): \`${key}\` must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** Bytes the binary check looks at: a NUL byte among them marks a file as binary. */
export const binarySniffBytes = 8000;

/** Whether the first bytes of a file look like binary data rather than text. */
export function looksBinary(head: Uint8Array): boolean {
  return head.subarray(0, binarySniffBytes).includes(0);
}
