/**
 * A JavaScript check function, run in the QuickJS sandbox (WebAssembly), never in the host. The
 * code is the body of a function that sees `output` (the final output) and the sandbox's
 * `readFile(path)` on the run's workspace, and returns true, false, or { pass, message }.
 */
import { createWasmSandbox } from '../../toolchain/code/wasm-sandbox.js';
import type { EvalCheck } from '../suite-schema.js';
import type { CheckResult } from './check-result.js';

const marker = '__hataraku_check__';

export async function jsCheck(
  check: Extract<EvalCheck, { js: string }>,
  output: unknown,
  workspace: string,
): Promise<CheckResult> {
  const name = check.name ?? 'js check';
  const verdict = (passed: boolean, detail: string): CheckResult => ({
    kind: 'js',
    name,
    passed,
    detail,
    modelGraded: false,
    skipped: false,
  });
  const program = [
    `const output = ${JSON.stringify(output ?? null)};`,
    `const verdict = (function () {\n${check.js}\n})();`,
    `console.log(${JSON.stringify(marker)} + JSON.stringify(verdict === undefined ? null : verdict));`,
  ].join('\n');
  const sandbox = createWasmSandbox({ workspace, timeoutMs: 5_000, memoryMb: 64, maxOutputBytes: 100_000 });
  try {
    const result = await sandbox.run({ language: 'javascript', code: program });
    const line = result.stdout.split('\n').find((entry) => entry.startsWith(marker));
    if (result.exitCode !== 0 || line === undefined) {
      return verdict(
        false,
        `the check threw or timed out: ${(result.stderr.trim().split('\n')[0] ?? '') || `exit ${result.exitCode}`}`,
      );
    }
    const value = JSON.parse(line.slice(marker.length)) as unknown;
    if (typeof value === 'boolean') return verdict(value, value ? 'returned true' : 'returned false');
    if (typeof value === 'object' && value !== null && 'pass' in value) {
      const { pass, message } = value as { pass: unknown; message?: unknown };
      return verdict(pass === true, typeof message === 'string' ? message : `returned pass: ${String(pass)}`);
    }
    return verdict(false, 'the check must return true, false or { pass, message }');
  } finally {
    await sandbox.dispose();
  }
}
