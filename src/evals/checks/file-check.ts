/** A file the run must leave in its workspace, optionally with content that contains or matches. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolveInWorkspace } from '../../toolchain/files/workspace-path.js';
import type { EvalCheck } from '../suite-schema.js';
import type { CheckResult } from './check-result.js';

export function fileCheck(check: Extract<EvalCheck, { file: string }>, workspace: string): CheckResult {
  const name = check.name ?? `file ${check.file}`;
  const verdict = (passed: boolean, detail: string): CheckResult => ({
    kind: 'file',
    name,
    passed,
    detail,
    modelGraded: false,
    skipped: false,
  });
  let path: string;
  try {
    path = resolveInWorkspace(workspace, check.file);
  } catch (error) {
    return verdict(false, `the path is not inside the workspace: ${(error as Error).message}`);
  }
  if (!existsSync(path) || !statSync(path).isFile()) return verdict(false, `${check.file} was not produced`);
  if (check.contains === undefined && check.matches === undefined) return verdict(true, `${check.file} exists`);
  const content = readFileSync(path, 'utf8');
  if (check.contains !== undefined && !content.includes(check.contains)) {
    return verdict(false, `${check.file} does not contain ${JSON.stringify(check.contains)}`);
  }
  if (check.matches !== undefined && !new RegExp(check.matches, 'm').test(content)) {
    return verdict(false, `${check.file} does not match /${check.matches}/`);
  }
  return verdict(true, `${check.file} exists and its content matches`);
}
