/**
 * The wasm tier: zero setup, works wherever Node runs. JavaScript runs in QuickJS (a worker
 * thread of this process: QuickJS is an interpreter of its own, and the program reaches the host
 * only through the file functions answered here), Python in Pyodide (a separate process with an
 * empty environment, inside bubblewrap where it works; see `pyodide-sandbox.ts`). Both are
 * created on first use and kept warm for the sandbox's lifetime (so globals persist between runs).
 */
import { createProtectedPaths, type ProtectedPaths } from '../files/protected-paths.js';
import { resolveInWorkspace } from '../files/workspace-path.js';
import { type PyodideConfinement, PyodideEngine } from './pyodide-sandbox.js';
import { type EngineRunResult, QuickJsEngine } from './quickjs-sandbox.js';
import {
  defaultSandboxLimits,
  type Sandbox,
  type SandboxDescription,
  type SandboxLimits,
  type SandboxRunRequest,
  type SandboxRunResult,
} from './sandbox.js';
import { diffSnapshots, snapshotWorkspace, type WorkspaceSnapshot } from './workspace-snapshot.js';

export interface WasmSandboxOptions extends SandboxLimits {
  /** Workspace directory; without one, file functions fail and no files are reported. */
  workspace: string | undefined;
  /**
   * How the Python process is fenced in. Default: bubblewrap at `/usr/bin/bwrap` (its absence
   * makes Python runs fail to start; `choose-sandbox.ts` decides and warns).
   */
  pythonConfinement?: PyodideConfinement;
  /** Why Python is not offered by this sandbox; a Python run then fails with this message. */
  pythonUnavailable?: string;
  /** Workspace entries the code can neither read nor write. Default {@link createProtectedPaths}'s. */
  protectedPaths?: ProtectedPaths;
}

/** What the wasm tier can and cannot do. */
export const wasmSandboxDescription: SandboxDescription = {
  tier: 'wasm',
  engines: 'QuickJS (quickjs-emscripten) for JavaScript, Pyodide (CPython on WebAssembly) for Python',
  languages: ['javascript', 'python'],
  can: [
    'JavaScript (ES2023, no Node APIs): console.log, readFile(path), writeFile(path, text), listFiles(dir) on workspace paths',
    'Python standard library: open() on /workspace (copied in before the run, written files copied back)',
    'Python runs in a separate process with an empty environment, inside bubblewrap where it is installed',
    'keep globals between runs of one sandbox (like a notebook)',
    'hard memory cap (WebAssembly memory growth refused), wall-clock timeout, output cap',
  ],
  cannot: [
    'no network: JavaScript has no network API; Python sockets are refused by an audit hook',
    'no processes: no fork, no subprocess, no child left behind',
    'no host files: only the workspace, through confined functions (JavaScript) or a copy (Python)',
    'no protected entries (.git, .env*, hataraku.config.json, .hataraku): not readable, not writable',
    'no third-party Python packages offline (no pandas, no matplotlib); no npm packages',
    'no timers or real async I/O in JavaScript (promises settle; setTimeout does not exist)',
  ],
  state: 'JavaScript globals and Python variables persist between runs until a limit kills the worker.',
};

/** A wasm-tier sandbox: QuickJS for JavaScript, Pyodide for Python. */
export function createWasmSandbox(options: WasmSandboxOptions): Sandbox {
  const memoryMb = options.memoryMb ?? defaultSandboxLimits.memoryMb;
  const maxOutputBytes = options.maxOutputBytes ?? defaultSandboxLimits.maxOutputBytes;
  const defaultTimeoutMs = options.timeoutMs ?? defaultSandboxLimits.timeoutMs;
  const protectedPaths = options.protectedPaths ?? createProtectedPaths();
  const maxWriteBytes = options.maxWriteBytes ?? defaultSandboxLimits.maxWriteBytes;
  if (!Number.isSafeInteger(maxWriteBytes) || maxWriteBytes < 1) {
    throw new RangeError(
      `code.run: \`maxWriteBytes\` must be a positive integer, got ${String(options.maxWriteBytes)}`,
    );
  }
  const engineOptions = { workspace: options.workspace, memoryMb, maxOutputBytes, maxWriteBytes, protectedPaths };
  const confinement: PyodideConfinement = options.pythonConfinement ?? {
    kind: 'bubblewrap',
    bubblewrapPath: '/usr/bin/bwrap',
  };
  let javascript: QuickJsEngine | undefined;
  let python: PyodideEngine | undefined;

  const snapshot = (): WorkspaceSnapshot | undefined =>
    options.workspace === undefined ? undefined : snapshotWorkspace(resolveInWorkspace(options.workspace, '.'));

  return {
    tier: 'wasm',
    describe: () => wasmSandboxDescription,
    async run(request: SandboxRunRequest): Promise<SandboxRunResult> {
      const timeoutMs = request.timeoutMs ?? defaultTimeoutMs;
      const started = performance.now();
      const before = snapshot();
      let result: EngineRunResult;
      if (request.language === 'javascript') {
        javascript ??= new QuickJsEngine(engineOptions);
        result = await javascript.run(request.code, timeoutMs);
      } else if (options.pythonUnavailable !== undefined) {
        result = {
          stdout: '',
          stderr: `${options.pythonUnavailable}\n`,
          exitCode: 1,
          limit: undefined,
          outputTruncated: false,
          notes: [],
        };
      } else {
        python ??= new PyodideEngine({ ...engineOptions, confinement });
        result = await python.run(request.code, timeoutMs);
      }
      const after = snapshot();
      return {
        tier: 'wasm',
        language: request.language,
        stdout: result.stdout,
        stderr: result.stderr,
        exitCode: result.exitCode,
        timedOut: result.limit === 'time',
        limitExceeded: result.limit,
        outputTruncated: result.outputTruncated,
        filesChanged: before === undefined || after === undefined ? [] : diffSnapshots(before, after),
        durationMs: performance.now() - started,
        notes: result.notes,
      };
    },
    async dispose() {
      await Promise.all([javascript?.dispose(), python?.dispose()]);
      javascript = undefined;
      python = undefined;
    },
  };
}
