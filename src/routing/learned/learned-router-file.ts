/** Reading and writing a fitted router's file, with one-line errors a user can act on. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { type LearnedRouter, parseLearnedRouter } from './learned-router.js';

/** Load the router at `path` (relative to `cwd`). Throws a UserError naming the file and the fix. */
export function loadLearnedRouter(path: string, cwd: string): LearnedRouter {
  const absolute = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch {
    throw new UserError(
      'config_invalid',
      `learned router ${path} cannot be read; create it with \`hataraku routes train\`.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UserError('config_invalid', `learned router ${path} is not JSON (${(error as Error).message}).`);
  }
  try {
    return parseLearnedRouter(parsed, path);
  } catch (error) {
    throw new UserError('config_invalid', (error as Error).message);
  }
}

/** Write `router` to `path` atomically (a temporary file renamed into place). */
export function saveLearnedRouter(router: LearnedRouter, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(router, null, 2)}\n`);
  renameSync(temporary, path);
}
