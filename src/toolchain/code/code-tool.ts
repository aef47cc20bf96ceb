/**
 * `code.run`: run JavaScript or Python in a sandbox with the run's workspace, and report what it
 * printed, how it ended and the files it created or changed. Images and PDFs it wrote become
 * artifacts of the run. The sandbox is kept for the whole run (in `runResources`), so variables
 * persist between calls where the tier allows it.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { Tool } from '../../tools/tool.js';
import {
  createSandbox,
  describeSandboxChoice,
  type SandboxChoice,
  type SandboxOptions,
  type SandboxWarning,
} from './choose-sandbox.js';
import type { Sandbox, SandboxRunResult } from './sandbox.js';

export interface CodeToolOptions extends SandboxOptions {
  /** Characters of stdout and of stderr shown to the model, each. Default 20,000. */
  maxShownCharacters?: number;
  /** The longest timeout a call may ask for, in milliseconds. Default 120,000. */
  maxTimeoutMs?: number;
}

/** What `code.run` returns: the sandbox's result plus the text shown to the model. */
export interface CodeRunOutput extends SandboxRunResult {
  /** The tier used and why it was chosen. */
  choice: { tier: SandboxChoice['tier']; reason: string };
  /** What the user should know about the sandbox's isolation (also printed once as a process warning). */
  warnings: SandboxWarning[];
  /** The report for the model. */
  text: string;
}

const artifactTypes: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
};

/** Create the `code.run` tool. The tier is chosen once, on the first call. */
export function createCodeTool(
  options: CodeToolOptions = {},
): Tool<{ language: 'javascript' | 'python'; code: string; timeoutMs?: number | undefined }, CodeRunOutput> {
  const maxShown = options.maxShownCharacters ?? 20_000;
  const maxTimeoutMs = options.maxTimeoutMs ?? 120_000;
  let choice: Promise<SandboxChoice> | undefined;

  return tool({
    name: 'code.run',
    description: [
      'Run a JavaScript or Python program in a sandbox and get its stdout, stderr, exit status and the workspace files it created or changed.',
      'The current directory is the workspace: read its files and write results (CSV, charts as PNG) there by relative path.',
      'There is no network. Print what you want to see. Variables may persist between calls in one run (wasm tier); files always do.',
      'Long output is cut; the result says so. Examples: {"language":"python","code":"import csv\\nprint(sum(1 for _ in open(\'sales.csv\')))"} or {"language":"javascript","code":"console.log(readFile(\'notes.txt\').length)"}.',
      "In JavaScript on the wasm tier, use readFile(path), writeFile(path, text) and listFiles(dir) for files; on the process tier, Node's fs module.",
    ].join(' '),
    input: z.object({
      language: z.enum(['javascript', 'python']).describe('The language of `code`.'),
      code: z.string().min(1).max(500_000).describe('The whole program. Print results to stdout.'),
      timeoutMs: z
        .number()
        .int()
        .min(100)
        .max(maxTimeoutMs)
        .optional()
        .describe(
          `Wall-clock limit in milliseconds (default ${options.timeoutMs ?? 10_000}, at most ${maxTimeoutMs}).`,
        ),
    }),
    effect: 'side-effect',
    // Its programs could flip links or race files under another tool's feet: nothing else of
    // the run runs while it does.
    exclusive: true,
    async execute(input, context) {
      if (choice === undefined) {
        choice = describeSandboxChoice(options);
        void choice.then(
          (chosen) => {
            for (const warning of chosen.warnings) {
              process.emitWarning(warning.message, { type: 'HatarakuSandboxWarning', code: warning.code });
            }
          },
          () => undefined,
        );
      }
      const chosen = await choice.catch((error: unknown) => {
        choice = undefined;
        throw error;
      });
      const sandbox = await context.runResources.get<Sandbox>(
        'code.sandbox',
        () => createSandbox(chosen, { ...options, workspace: context.workspace }),
        (value) => value.dispose(),
      );
      const request =
        input.timeoutMs === undefined
          ? { language: input.language, code: input.code }
          : { language: input.language, code: input.code, timeoutMs: input.timeoutMs };
      const result = listAtMost(await sandbox.run(request), maxListedFiles);
      for (const file of result.filesChanged) {
        const mediaType = artifactTypes[extname(file.path).toLowerCase()];
        if (mediaType !== undefined && file.change !== 'deleted') {
          context.recordArtifact({
            path: file.path,
            mediaType,
            description: `written by code.run (${input.language})`,
          });
        }
      }
      return {
        ...result,
        choice: { tier: chosen.tier, reason: chosen.reason },
        warnings: chosen.warnings,
        text: formatResult(result, chosen, maxShown, request.timeoutMs),
      };
    },
  });
}

/**
 * How many changed files a result lists (and records as artifacts). A program can create
 * thousands of small files in a second; every one listed would go to the model, the journal and
 * the run's artifacts.
 */
export const maxListedFiles = 200;

/** `result` with at most `limit` changed files listed, and a note that counts the others. */
function listAtMost(result: SandboxRunResult, limit: number): SandboxRunResult {
  const unlisted = result.filesChanged.length - limit;
  if (unlisted <= 0) return result;
  return {
    ...result,
    filesChanged: result.filesChanged.slice(0, limit),
    notes: [...result.notes, `${unlisted} more files changed and are not listed; use files.list to see them.`],
  };
}

/** The report shown to the model: status first, then output, files and notes. */
export function formatResult(
  result: SandboxRunResult,
  choice: SandboxChoice,
  maxShown: number,
  timeoutMs: number | undefined,
): string {
  const lines = [`sandbox: ${choice.tier} tier (${choice.reason}); language: ${result.language}`];
  for (const warning of choice.warnings) lines.push(`warning: ${warning.message}`);
  if (result.timedOut)
    lines.push(
      `status: stopped at the time limit${timeoutMs === undefined ? '' : ` of ${timeoutMs} ms`}; make the program faster or pass a larger timeoutMs.`,
    );
  else if (result.limitExceeded === 'disk')
    lines.push(
      'status: stopped because it wrote more than a run may write (the write limit; see the note); write less, or fewer and smaller files.',
    );
  else if (result.limitExceeded === 'output')
    lines.push('status: stopped because the output passed the output cap; print less (summaries, head of tables).');
  else if (result.limitExceeded !== undefined)
    lines.push(
      `status: stopped by the ${result.limitExceeded} limit; use less ${result.limitExceeded === 'processes' ? 'processes' : 'of it'}.`,
    );
  else lines.push(`exit status: ${result.exitCode}`);
  lines.push(...section('stdout', result.stdout, maxShown), ...section('stderr', result.stderr, maxShown));
  if (result.filesChanged.length > 0) {
    lines.push(
      'files changed:',
      ...result.filesChanged.map(
        (file) => `- ${file.path} (${file.change}${file.change === 'deleted' ? '' : `, ${file.size} bytes`})`,
      ),
    );
  }
  for (const note of result.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

function section(name: string, text: string, maxShown: number): string[] {
  if (text === '') return [];
  if (text.length <= maxShown) return [`${name}:`, text.trimEnd()];
  const head = text.slice(0, Math.floor(maxShown / 2));
  const tail = text.slice(text.length - Math.floor(maxShown / 2));
  return [
    `${name} (truncated: showing the first and last ${Math.floor(maxShown / 2)} of ${text.length} characters):`,
    `${head}\n[...]\n${tail}`.trimEnd(),
  ];
}
