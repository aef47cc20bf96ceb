/**
 * What every CLI command needs: the process's streams and environment, the working directory,
 * and a Hataraku instance built from them. Passed explicitly so commands can be tested in
 * process.
 */

import { UserError } from '../errors.js';
import { createHataraku, type Hataraku } from '../hataraku.js';
import type { ProgressOutput } from './progress-renderer.js';

export interface CliIo {
  stdout: ProgressOutput;
  stderr: ProgressOutput;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Aborted on SIGINT: the run is left pending, to resume later. */
  signal?: AbortSignal;
}

export function openHataraku(io: CliIo, configPath: string | undefined): Hataraku {
  return createHataraku({
    cwd: io.cwd,
    env: io.env,
    onJournalUnreachable: journalUnreachableNotice(io),
    ...(configPath ? { configPath } : {}),
  });
}

/** Prints, once, that the PostgreSQL journal is out of reach and is being tried again. */
export function journalUnreachableNotice(io: Pick<CliIo, 'stderr'>): (message: string) => void {
  return (message) => io.stderr.write(`hataraku: ${message}\n`);
}

/** Parse a positive number flag, with a one-line error naming the flag. */
export function positiveNumberFlag(flag: string, value: string | undefined, example: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new UserError(
      'usage',
      `${flag} must be a positive number, e.g. ${flag} ${example} (got ${JSON.stringify(value)}).`,
    );
  }
  return parsed;
}

export function positiveIntegerFlag(flag: string, value: string | undefined, example: string): number | undefined {
  const parsed = positiveNumberFlag(flag, value, example);
  if (parsed !== undefined && !Number.isInteger(parsed)) {
    throw new UserError(
      'usage',
      `${flag} must be a whole number, e.g. ${flag} ${example} (got ${JSON.stringify(value)}).`,
    );
  }
  return parsed;
}

export const noModelMessage =
  'no model configured: pass --model (e.g. --model openai:gpt-4o-mini with OPENAI_API_KEY set, or --model ollama:qwen2.5:7b), set HATARAKU_MODEL, or set "model" in hataraku.config.json. `npm start` runs the example with the scripted demo model.';
