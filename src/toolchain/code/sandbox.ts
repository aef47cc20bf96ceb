/**
 * The `Sandbox` contract: run a piece of JavaScript or Python against the run's workspace and
 * report what it printed, how it ended and which workspace files it created, changed or
 * deleted. Two tiers implement it: `wasm` (QuickJS and Pyodide in worker threads, zero setup)
 * and `process` (the host's `python3` and `node` inside bubblewrap on Linux).
 */

export type SandboxLanguage = 'javascript' | 'python';

export type SandboxTier = 'wasm' | 'process';

/** What one `run` should execute. */
export interface SandboxRunRequest {
  language: SandboxLanguage;
  /** Program text. */
  code: string;
  /** Wall-clock limit for this run; the tier's default when omitted. */
  timeoutMs?: number;
}

/** A limit that ended a run early. */
export type SandboxLimit =
  | 'time'
  | 'memory'
  | 'output'
  | 'cpu'
  | 'processes'
  | 'file-size'
  /** The run wrote more than `maxWriteBytes` in all. */
  | 'disk';

/** A workspace file that a run created, changed or deleted. */
export interface ChangedFile {
  /** Path relative to the workspace, with `/` separators. */
  path: string;
  /** Size in bytes after the run (0 when deleted). */
  size: number;
  change: 'created' | 'modified' | 'deleted';
}

export interface SandboxRunResult {
  tier: SandboxTier;
  language: SandboxLanguage;
  stdout: string;
  stderr: string;
  /** Process-style exit status: 0 on success, 1 on an uncaught error; `null` when killed. */
  exitCode: number | null;
  timedOut: boolean;
  /** The limit that stopped the run, when one did. */
  limitExceeded: SandboxLimit | undefined;
  /** Whether stdout or stderr were cut at the output cap. */
  outputTruncated: boolean;
  filesChanged: ChangedFile[];
  durationMs: number;
  /** Things the caller should know (state was reset, a file was too large to copy, ...). */
  notes: string[];
}

/** What a tier is, what it isolates and what it can and cannot do, in words for people and models. */
export interface SandboxDescription {
  tier: SandboxTier;
  /** The engines used, e.g. `QuickJS (quickjs-emscripten) + Pyodide`. */
  engines: string;
  languages: SandboxLanguage[];
  can: string[];
  cannot: string[];
  /** How state carries over between runs of one sandbox. */
  state: string;
}

export interface Sandbox {
  readonly tier: SandboxTier;
  describe(): SandboxDescription;
  run(request: SandboxRunRequest): Promise<SandboxRunResult>;
  /** Stop every worker or process this sandbox holds. Safe to call twice. */
  dispose(): Promise<void>;
}

/** Limits shared by both tiers. */
export interface SandboxLimits {
  /** Default wall-clock limit per run, in milliseconds. Default 10,000. */
  timeoutMs?: number;
  /** Memory cap per run (wasm: the engine's heap; process: address space), in megabytes. Default 512. */
  memoryMb?: number;
  /** Cap on stdout plus stderr kept per run, in bytes; past it the run is stopped. Default 1 MB. */
  maxOutputBytes?: number;
  /**
   * Cap on the bytes one run may write in all, files of every process together (process tier:
   * the workspace, `/tmp`, output; wasm tier: what reaches the workspace). Past it the run is
   * stopped, or its writes refused, and the files it created are not kept. Default 200 MB.
   */
  maxWriteBytes?: number;
}

export const defaultSandboxLimits = {
  timeoutMs: 10_000,
  memoryMb: 512,
  maxOutputBytes: 1_000_000,
  maxWriteBytes: 200_000_000,
} as const;
