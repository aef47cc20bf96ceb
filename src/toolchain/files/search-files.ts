/**
 * `files.search`: a regular expression over the text files of the workspace, answered as
 * `path:line:text` lines. Files are chosen in the calling thread (confined, filtered, size-capped,
 * protected entries left out); the worker opens each one and checks that the descriptor's real
 * path is exactly the chosen one before reading it, so a link flipped meanwhile is skipped;
 * the matching runs in a worker thread with a wall-clock limit, because a model-written pattern
 * can backtrack for hours on one line and JavaScript cannot interrupt a running `RegExp`.
 */
import { closeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import { binarySniffBytes, type FileToolLimits } from './file-tool-options.js';
import { globMatcher } from './glob-pattern.js';
import type { ProtectedPaths } from './protected-paths.js';
import { maxVisitedEntries, walkWorkspace } from './walk-workspace.js';
import { hasDescriptorPaths, openEntry, type WorkspaceAccess, workspaceAccess } from './workspace-access.js';
import { WorkspacePathError } from './workspace-path.js';

const maxShownLineCharacters = 300;

const searchInput = z.object({
  pattern: z.string().min(1).describe('JavaScript regular expression, e.g. "def \\\\w+\\\\(" or "TODO|FIXME".'),
  path: z.string().default('.').describe('Directory (or single file) to search, relative to the workspace.'),
  glob: z.string().optional().describe('Only files matching this glob, e.g. "*.py", "src/**/*.ts", "*.{md,txt}".'),
  caseSensitive: z.boolean().default(true).describe('Set false to ignore case.'),
  literal: z.boolean().default(false).describe('Treat `pattern` as plain text instead of a regular expression.'),
});

/** What the worker is given: files already confined and filtered by the calling thread. */
interface SearchJob {
  source: string;
  flags: string;
  files: Array<{ absolute: string; shown: string }>;
  /** Whether the worker can check an opened file through \`/proc/self/fd\`. */
  descriptorPaths: boolean;
  maxMatches: number;
  /** Files larger than this when opened are not read (the size the caller chose them by may be stale). */
  maxFileBytes: number;
  maxShownLineCharacters: number;
  binarySniffBytes: number;
}

/** Messages from the worker: the shown matches of each file, then the total count. */
type SearchMessage =
  | { kind: 'matches'; lines: string[] }
  | { kind: 'done'; matches: number; skippedLines: number; skippedFiles: string[]; grown: number };

// Plain JavaScript, run with `eval: true` so it works from sources and from the build alike.
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const job = workerData;
const expression = new RegExp(job.source, job.flags);
// Open first (no final link followed, no FIFO waited on), then check that the descriptor is
// the chosen file itself: a regular file with one link whose real path is the chosen path.
function readChecked(absolute) {
  const descriptor = fs.openSync(absolute, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const stats = fs.fstatSync(descriptor);
    if (!stats.isFile() || stats.nlink > 1) return undefined;
    if (job.descriptorPaths) {
      if (fs.readlinkSync('/proc/self/fd/' + descriptor) !== absolute) return undefined;
    } else {
      const real = fs.realpathSync(absolute);
      const current = fs.statSync(real);
      if (real !== absolute || current.ino !== stats.ino || current.dev !== stats.dev) return undefined;
    }
    // The size is the opened file's, so a file swapped or grown since it was chosen is judged
    // as it is now, and no more than the cap is ever read from it.
    if (stats.size > job.maxFileBytes) return 'too-large';
    const buffer = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < buffer.length) {
      const read = fs.readSync(descriptor, buffer, filled, buffer.length - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return buffer.subarray(0, filled);
  } finally {
    fs.closeSync(descriptor);
  }
}
let matches = 0;
// Lines on which the pattern ran out of backtracking stack (a RangeError): skipped and reported,
// so one long line does not turn the whole search into "Maximum call stack size exceeded".
let skippedLines = 0;
const skippedFiles = [];
// Files over the size cap when opened, though under it when chosen: skipped and counted.
let grown = 0;
for (const file of job.files) {
  let buffer;
  try { buffer = readChecked(file.absolute); } catch { continue; }
  if (buffer === undefined) continue;
  if (buffer === 'too-large') {
    grown++;
    continue;
  }
  if (buffer.subarray(0, job.binarySniffBytes).includes(0)) continue;
  const lines = buffer.toString('utf8').split('\\n');
  const found = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    let isMatch;
    try {
      isMatch = expression.test(line);
    } catch {
      skippedLines++;
      if (skippedFiles.length < 5 && !skippedFiles.includes(file.shown)) skippedFiles.push(file.shown);
      continue;
    }
    if (!isMatch) continue;
    matches++;
    if (matches <= job.maxMatches) {
      const text = line.length > job.maxShownLineCharacters ? line.slice(0, job.maxShownLineCharacters) + '…' : line;
      found.push(file.shown + ':' + (index + 1) + ':' + text.replace(/\\r$/, ''));
    }
  }
  if (found.length > 0) parentPort.postMessage({ kind: 'matches', lines: found });
}
parentPort.postMessage({ kind: 'done', matches, skippedLines, skippedFiles, grown });
`;

export function createSearchFilesTool(limits: FileToolLimits, protectedPaths?: ProtectedPaths) {
  return tool({
    name: 'files.search',
    description: [
      'Search the text files of the workspace for a regular expression (JavaScript syntax), line by line.',
      'Answers one line per match as "path:line:text". Use `glob` to limit the files (e.g. "*.py"), `path` to limit the directory,',
      '`literal: true` to search for plain text, `caseSensitive: false` to ignore case.',
      `At most ${limits.maxSearchMatches} matches are shown (the total is stated); binary files, files over ${limits.maxSearchFileBytes} bytes,`,
      `node_modules and protected entries (.git, .hataraku, .env files, the config) are skipped; a search stops after ${limits.searchTimeoutMs} ms.`,
      'Example: {"pattern": "def (load|save)_", "glob": "*.py"}.',
    ].join(' '),
    input: searchInput,
    effect: 'none',
    execute: async ({ pattern, path, glob, caseSensitive, literal }, context) => {
      const access = workspaceAccess(context.workspace, protectedPaths);
      const source = literal ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : pattern;
      const flags = caseSensitive ? '' : 'i';
      try {
        new RegExp(source, flags);
      } catch (error) {
        throw new WorkspacePathError(
          `pattern is not a valid regular expression (${(error as Error).message}); escape special characters such as ( [ . * with a backslash, or set literal to true.`,
        );
      }
      const selection = selectFiles(access, path, glob, limits);
      if (selection.files.length === 0) {
        return `No files to search${glob === undefined ? '' : ` matching glob "${glob}"`} under ${path}.${selection.notes.length > 0 ? `\n${selection.notes.join('\n')}` : ''}`;
      }
      const outcome = await runSearch(
        {
          source,
          flags,
          files: selection.files,
          descriptorPaths: hasDescriptorPaths,
          maxMatches: limits.maxSearchMatches,
          maxFileBytes: limits.maxSearchFileBytes,
          maxShownLineCharacters,
          binarySniffBytes,
        },
        limits.searchTimeoutMs,
        context.abortSignal,
      );
      const notes = [...selection.notes];
      if (outcome.timedOut) {
        notes.push(
          `[stopped after ${limits.searchTimeoutMs} ms: results are incomplete; the pattern may be too slow (nested quantifiers such as (a+)+) or the search too broad; narrow path or glob]`,
        );
      }
      if (outcome.grown !== undefined && outcome.grown > 0) {
        notes.push(
          `[skipped ${outcome.grown} files that were over ${limits.maxSearchFileBytes} bytes when opened; read them by line range]`,
        );
      }
      if (outcome.skippedLines !== undefined && outcome.skippedLines > 0) {
        notes.push(
          `[skipped ${outcome.skippedLines} lines too long for this pattern (it ran out of stack) in ${outcome.skippedFiles?.join(', ')}; use a simpler pattern, e.g. [ab]* instead of (a|b)*]`,
        );
      }
      if (outcome.matches > outcome.lines.length) {
        notes.push(
          `[truncated: showing ${outcome.lines.length} of ${outcome.matches} matches; narrow the pattern, path or glob]`,
        );
      }
      if (outcome.lines.length === 0) {
        return [`No matches for /${pattern}/ in ${selection.files.length} files.`, ...notes].join('\n');
      }
      return [...outcome.lines, ...notes].join('\n');
    },
  });
}

interface Selection {
  files: Array<{ absolute: string; shown: string }>;
  notes: string[];
}

function selectFiles(
  access: WorkspaceAccess,
  path: string,
  glob: string | undefined,
  limits: FileToolLimits,
): Selection {
  const matches = glob === undefined ? () => true : globMatcher(glob);
  const files: Selection['files'] = [];
  let skippedLarge = 0;
  let moreFiles = false;
  let walkStopped = false;
  const start = openEntry(access, path);
  const startStats = start.stats;
  const startRelative = start.relativeRealPath;
  closeSync(start.descriptor);
  const consider = (shown: string, size: number) => {
    const absolute = shown === '.' ? access.root : `${access.root}/${shown}`;
    if (!matches(shown)) return;
    if (size > limits.maxSearchFileBytes) {
      skippedLarge++;
      return;
    }
    if (files.length >= limits.maxSearchFiles) {
      moreFiles = true;
      return;
    }
    files.push({ absolute, shown });
  };
  if (startStats.isFile()) consider(startRelative, startStats.size);
  else if (startStats.isDirectory()) {
    // Links are not followed: their targets may lie outside the workspace.
    const stopped = walkWorkspace(access, startRelative, maxVisitedEntries, ({ relative, kind, size }) => {
      if (kind === 'file') consider(relative, size);
      return !moreFiles;
    });
    walkStopped = stopped;
  }
  const notes: string[] = [];
  if (walkStopped) notes.push(`[stopped after ${maxVisitedEntries} entries; narrow path or glob]`);
  if (skippedLarge > 0) {
    notes.push(`[skipped ${skippedLarge} files over ${limits.maxSearchFileBytes} bytes; read them by line range]`);
  }
  if (moreFiles) notes.push(`[searched only the first ${limits.maxSearchFiles} files; narrow path or glob]`);
  return { files, notes };
}

interface SearchOutcome {
  lines: string[];
  matches: number;
  timedOut: boolean;
  /** Lines the pattern could not be run on (it ran out of stack), and the first files holding them. */
  skippedLines?: number;
  skippedFiles?: string[];
  /** Files chosen under the size cap but over it when the worker opened them. */
  grown?: number;
}

function runSearch(job: SearchJob, timeoutMs: number, abortSignal: AbortSignal): Promise<SearchOutcome> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let matches = 0;
    let settled = false;
    // No Node options inherited: the source is a script, which `--input-type=module` would
    // make a module (without `require`); and the process's preloads have no business here.
    const worker = new Worker(workerSource, { eval: true, execArgv: [], workerData: job });
    const finish = (outcome: SearchOutcome | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abortSignal.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ lines, matches: Math.max(matches, lines.length), timedOut: true }),
      timeoutMs,
    );
    const onAbort = () => finish(new Error('files.search was cancelled.'));
    if (abortSignal.aborted) onAbort();
    else abortSignal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: SearchMessage) => {
      if (message.kind === 'matches') lines.push(...message.lines);
      else {
        matches = message.matches;
        finish({
          lines,
          matches,
          timedOut: false,
          skippedLines: message.skippedLines,
          skippedFiles: message.skippedFiles,
          grown: message.grown,
        });
      }
    });
    worker.on('error', (error) => finish(error));
    worker.on('exit', () => finish({ lines, matches: Math.max(matches, lines.length), timedOut: false }));
  });
}
