/**
 * The wasm tier: zero setup, works wherever Node runs. JavaScript runs in QuickJS, Python in
 * Pyodide, each in its own worker thread, created on first use and kept warm for the sandbox's
 * lifetime (so globals persist between runs).
 */
import { resolveInWorkspace } from '../files/workspace-path.js';
import { PyodideEngine } from './pyodide-sandbox.js';
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
}

/** What the wasm tier can and cannot do. */
export const wasmSandboxDescription: SandboxDescription = {
  tier: 'wasm',
  engines: 'QuickJS (quickjs-emscripten) for JavaScript, Pyodide (CPython on WebAssembly) for Python',
  languages: ['javascript', 'python'],
  can: [
    'JavaScript (ES2023, no Node APIs): console.log, readFile(path), writeFile(path, text), listFiles(dir) on workspace paths',
    'Python standard library: open() on /workspace (copied in before the run, written files copied back)',
    'keep globals between runs of one sandbox (like a notebook)',
    'hard memory cap (WebAssembly memory growth refused), wall-clock timeout, output cap',
  ],
  cannot: [
    'no network: JavaScript has no network API; Python sockets are refused by an audit hook',
    'no processes: no fork, no subprocess, no child left behind',
    'no host files: only the workspace, through confined functions (JavaScript) or a copy (Python)',
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
  const engineOptions = { workspace: options.workspace, memoryMb, maxOutputBytes };
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
      } else {
        python ??= new PyodideEngine(engineOptions);
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
