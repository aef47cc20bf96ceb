/**
 * The process tier: the host's `/usr/bin/python3` and `node` inside bubblewrap (Linux).
 *
 * Each run is a fresh process tree in new namespaces (`--unshare-all`: no network, own PID
 * namespace, own IPC and hostname), as uid/gid 65534 in a new user namespace, with an empty
 * environment. The system is visible read-only (`/usr` and the `/bin`, `/lib*` links, a few
 * files of `/etc` that Python and matplotlib read; not `/etc/passwd`, not `/root`, not
 * `/home`), `/tmp` is a private tmpfs and only the workspace, at `/workspace`, is writable.
 *
 * Limits: CPU time, address space (Python; Node reserves large virtual ranges, so it gets a
 * V8 heap limit instead), file size, open files and process count are set with `prlimit`
 * inside the sandbox. Bytes written in all are capped per run: `/tmp` is a tmpfs of that size,
 * and a watchdog adds up what the sandbox's processes wrote (`wchar` in `/proc/<pid>/io`, which
 * counts reaped children into their parent) and stops the run past the cap; growth that escapes
 * write() (a memory-mapped file) is caught by comparing the workspace before and after. A run
 * stopped there has the files it created removed, so no half-written result stays behind. When the host runs as root, the kernel does not apply RLIMIT_NPROC to
 * root's processes (the sandbox uid maps back to root), so a watchdog also counts the
 * sandbox's processes and kills it past the cap. Output past the cap and the wall-clock
 * deadline kill the whole sandbox: killing bubblewrap ends its PID namespace, which takes every
 * process in it along (`--die-with-parent`), so no child is ever left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  type StatsFs,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { createProtectedPaths, type ProtectedPaths } from '../files/protected-paths.js';
import { removeFileWithoutLinks, workspaceAccess } from '../files/workspace-access.js';
import { resolveInWorkspace } from '../files/workspace-path.js';
import { createPidsCgroup } from './pids-cgroup.js';
import {
  findProtectedEntries,
  type ProtectedOverlay,
  protectedAncestors,
  removeCreatedProtectedEntries,
} from './protected-entries.js';
import {
  defaultSandboxLimits,
  type Sandbox,
  type SandboxDescription,
  type SandboxLimit,
  type SandboxLimits,
  type SandboxRunRequest,
  type SandboxRunResult,
} from './sandbox.js';
import { diskSyscallFilter } from './seccomp-filter.js';
import { diskUseGrowth, measureWorkspaceDiskUse, removeEntriesNotIn, totalDiskUse } from './workspace-disk-use.js';
import { diffSnapshots, snapshotWorkspace, type WorkspaceSnapshot } from './workspace-snapshot.js';

export interface ProcessSandboxOptions extends SandboxLimits {
  /** Workspace directory, bound read-write at `/workspace`; without one, `/workspace` is a throwaway tmpfs. */
  workspace: string | undefined;
  /** The bubblewrap binary. Default `/usr/bin/bwrap`. */
  bubblewrapPath?: string;
  /** The Python interpreter inside the sandbox. Default `/usr/bin/python3` (Debian's, with its packages). */
  pythonPath?: string;
  /** The Node binary. Default: this process's `process.execPath`. */
  nodePath?: string;
  /** CPU seconds per run. Default: the timeout in seconds, rounded up, plus one. */
  cpuSeconds?: number;
  /** Most processes (and threads) alive in the sandbox at once. Default 64. */
  maxProcesses?: number;
  /** Largest file a run may write, in megabytes. Default 100. */
  maxFileMb?: number;
  /** Workspace entries the code can neither read nor write. Default {@link createProtectedPaths}'s. */
  protectedPaths?: ProtectedPaths;
}

/** What the process tier can and cannot do. */
export const processSandboxDescription: SandboxDescription = {
  tier: 'process',
  engines: "bubblewrap around the host's /usr/bin/python3 and node",
  languages: ['javascript', 'python'],
  can: [
    'Python with every Debian package installed on the host (pandas, matplotlib with MPLBACKEND=Agg, numpy...)',
    'Node.js with its built-in modules (fs, path, zlib, ...) inside the sandbox',
    'read and write files under /workspace (the current directory); use /tmp for scratch (private, discarded)',
    'start child processes up to the process cap; they are all killed when the run ends',
  ],
  cannot: [
    'no network at all (own network namespace with no interfaces)',
    'no host files outside the workspace: read-only /usr, no /etc/passwd, no /root or /home',
    'no privileges: runs as uid 65534 (nobody) with an empty environment',
    'no state in memory between runs: each run is a new process; state persists through files in the workspace',
    'limits: CPU time, memory (address space), file size, open files, process count, output size, wall clock',
  ],
  state: 'Each run is a fresh process; keep state between runs in workspace files (e.g. pickle, CSV, JSON).',
};

const sandboxUid = 65534;

/**
 * The environment bubblewrap itself starts with. `--clearenv` only cleans the program bwrap
 * starts; bwrap's own process (readable as /proc/<pid>/environ from inside when PID namespaces
 * are shared, and by any helper it forks) must not carry the host's secrets either.
 */
export const sandboxSpawnEnvironment: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/bin:/bin',
  LANG: 'C.UTF-8',
});
const watchdogIntervalMs = 25;

/** Whether bubblewrap exists and can create its namespaces here; the reason when it cannot. */
export async function probeProcessTier(
  options: { bubblewrapPath?: string; pythonPath?: string } = {},
): Promise<{ available: true } | { available: false; reason: string }> {
  if (process.platform !== 'linux')
    return { available: false, reason: `the process tier needs Linux, this is ${process.platform}` };
  const bubblewrapPath = options.bubblewrapPath ?? '/usr/bin/bwrap';
  const pythonPath = options.pythonPath ?? '/usr/bin/python3';
  if (!isExecutable(bubblewrapPath))
    return { available: false, reason: `${bubblewrapPath} not found (apt-get install bubblewrap)` };
  if (!isExecutable('/usr/bin/prlimit')) return { available: false, reason: '/usr/bin/prlimit not found (util-linux)' };
  const sandbox = createProcessSandbox({ workspace: undefined, bubblewrapPath, pythonPath, timeoutMs: 5_000 });
  try {
    const result = await sandbox.run({ language: 'python', code: 'print("ok")' });
    if (result.exitCode === 0 && result.stdout.trim() === 'ok') return { available: true };
    return {
      available: false,
      reason: `bubblewrap could not start: ${result.stderr.trim().slice(0, 300) || 'no output'}`,
    };
  } catch (error) {
    return {
      available: false,
      reason: `bubblewrap could not start: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    await sandbox.dispose();
  }
}

/** A process-tier sandbox. Each run is a new bubblewrap sandbox; files persist in the workspace. */
export function createProcessSandbox(options: ProcessSandboxOptions): Sandbox {
  const timeoutDefault = options.timeoutMs ?? defaultSandboxLimits.timeoutMs;
  const memoryMb = options.memoryMb ?? defaultSandboxLimits.memoryMb;
  const maxOutputBytes = options.maxOutputBytes ?? defaultSandboxLimits.maxOutputBytes;
  const maxProcesses = options.maxProcesses ?? 64;
  const maxFileBytes = (options.maxFileMb ?? 100) * 1024 * 1024;
  const maxWriteBytes = options.maxWriteBytes ?? defaultSandboxLimits.maxWriteBytes;
  if (!Number.isSafeInteger(maxWriteBytes) || maxWriteBytes < 1) {
    throw new RangeError(
      `code.run: \`maxWriteBytes\` must be a positive integer, got ${String(options.maxWriteBytes)}`,
    );
  }
  const bubblewrapPath = options.bubblewrapPath ?? '/usr/bin/bwrap';
  const pythonPath = options.pythonPath ?? '/usr/bin/python3';
  const nodePath = realpathSync(options.nodePath ?? process.execPath);
  const protectedPaths = options.protectedPaths ?? createProtectedPaths();
  const running = new Set<() => void>();
  // An empty read-only file and directory laid over protected entries; outside every bind the
  // code can write to, so nothing can be put in them.
  let blanks: { root: string; file: string; directory: string } | undefined;
  let scratchWorkspace: string | undefined;
  // A cache that outlives one run (matplotlib's font list takes seconds to build), private to this sandbox.
  let cacheDirectory: string | undefined;

  const workspaceRoot = (): string => {
    if (options.workspace !== undefined) return resolveInWorkspace(options.workspace, '.');
    scratchWorkspace ??= mkdtempSync(join(tmpdir(), 'hataraku-sandbox-'));
    return scratchWorkspace;
  };

  return {
    tier: 'process',
    describe: () => processSandboxDescription,
    async run(request: SandboxRunRequest): Promise<SandboxRunResult> {
      const timeoutMs = request.timeoutMs ?? timeoutDefault;
      const cpuSeconds = options.cpuSeconds ?? Math.ceil(timeoutMs / 1000) + 1;
      const root = workspaceRoot();
      const before = options.workspace === undefined ? undefined : snapshotWorkspace(root);
      const diskUseBefore = options.workspace === undefined ? undefined : measureWorkspaceDiskUse(root, protectedPaths);
      const protectedBefore = options.workspace === undefined ? [] : findProtectedEntries(root, protectedPaths);
      const overlays = protectedBefore.filter((entry) => entry.linkTarget === undefined);
      const limits = [
        `--cpu=${cpuSeconds}`,
        `--nproc=${maxProcesses}`,
        `--fsize=${maxFileBytes}`,
        '--nofile=256',
        '--core=0',
      ];
      let command: string[];
      if (request.language === 'python') {
        limits.push(`--as=${memoryMb * 1024 * 1024}`);
        command = [pythonPath, '-'];
      } else {
        command = [nodePath, `--max-old-space-size=${memoryMb}`, '-'];
      }
      cacheDirectory ??= mkdtempSync(join(tmpdir(), 'hataraku-sandbox-cache-'));
      const cache = cacheDirectory;
      blanks ??= createBlanks();
      const args = [
        ...bubblewrapArguments(
          root,
          cacheDirectory,
          nodePath,
          overlays,
          protectedAncestors(protectedBefore),
          blanks,
          // An older bubblewrap has no --size: /tmp is then unsized, and the watchdog still counts it.
          {
            ...(bubblewrapSupports(bubblewrapPath, '--size') ? { tmpfsBytes: maxWriteBytes } : {}),
            disableUserNamespaces: bubblewrapSupports(bubblewrapPath, '--disable-userns'),
          },
        ),
        // fallocate and io_uring refused (seccomp-filter.ts): disk space only through counted writes.
        ...(seccompFilter === undefined ? [] : ['--seccomp', String(seccompDescriptor)]),
        '/usr/bin/prlimit',
        ...limits,
        '--',
        ...command,
      ];
      const started = performance.now();
      const outcome = await runBubblewrap({
        bubblewrapPath,
        args,
        stdin: request.code,
        timeoutMs,
        maxOutputBytes,
        maxProcesses,
        countProcesses: process.getuid?.() === 0,
        // Output counts in `wchar` too: it has a cap of its own.
        maxWrittenBytes: maxWriteBytes + maxOutputBytes,
        seccompFilter,
        tmpfsBytes: bubblewrapSupports(bubblewrapPath, '--size') ? maxWriteBytes : undefined,
        running,
      });
      const notes: string[] = [];
      const removeProtected = (): boolean => {
        try {
          const removed = removeCreatedProtectedEntries(root, protectedPaths, protectedBefore);
          if (removed.length > 0) {
            notes.push(
              `Removed protected entries the run created (sandboxed code may not write them): ${removed.join(', ')}.`,
            );
          }
          return true;
        } catch {
          // A tree the walk cannot follow (a path past the system's limit): the run is over the
          // limit, its new entries go, and the protected ones are looked for again below.
          return false;
        }
      };
      const protectedRemoved = options.workspace === undefined || removeProtected();
      let after = before === undefined ? undefined : snapshotWorkspace(root);
      let limit = outcome.limit;
      // Disk space that write() did not count (pages written through a memory map, a file
      // extended with truncate, thousands of directories), in any folder, shows here. A run that
      // left more entries than can be walked is over the limit: what it wrote cannot be told.
      // Checked after any stop but the disk's own: a program can write through a map, then wait for the deadline.
      if (limit !== 'disk' && diskUseBefore !== undefined) {
        const diskUseAfter = measureWorkspaceDiskUse(root, protectedPaths);
        if (!protectedRemoved || !diskUseAfter.complete || diskUseGrowth(diskUseBefore, diskUseAfter) > maxWriteBytes) {
          limit = 'disk';
        }
      }
      if (limit === 'disk' && before !== undefined && after !== undefined && options.workspace !== undefined) {
        notes.push(discardWrites(root, protectedPaths, before, after, maxWriteBytes));
        // What the file list does not show (directories, links, folders it skips) goes too.
        if (diskUseBefore?.complete === true) {
          const others = removeEntriesNotIn(root, protectedPaths, diskUseBefore);
          if (others > 0)
            notes.push(`${others} other new entries (directories, links, files in skipped folders) were removed.`);
        }
        if (!protectedRemoved && !removeProtected()) {
          notes.push('Protected entries the run may have created could not all be looked at.');
        }
        after = snapshotWorkspace(root);
      } else if (limit === 'disk') {
        notes.push(`The run wrote more than ${maxWriteBytes} bytes (the write limit, maxWriteBytes) and was stopped.`);
      }
      // The cache outlives the run, on the host's disk: it may hold no more than one run may write,
      // or runs that each stay under the limit would fill it together. Past that it is emptied.
      const cacheUse = measureWorkspaceDiskUse(cache, undefined);
      if (!cacheUse.complete || totalDiskUse(cacheUse) > maxWriteBytes) {
        rmSync(cache, { recursive: true, force: true });
        if (cacheDirectory === cache) cacheDirectory = undefined;
      }
      if (limit === undefined && outcome.signal === 'SIGXCPU') limit = 'cpu';
      if (limit === undefined && outcome.signal === 'SIGXFSZ') limit = 'file-size';
      if (limit === undefined && /\bMemoryError\b|JavaScript heap out of memory/.test(outcome.stderr)) limit = 'memory';
      if (limit === 'processes') notes.push(`The run started more than ${maxProcesses} processes and was killed.`);
      return {
        tier: 'process',
        language: request.language,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        exitCode: outcome.exitCode,
        timedOut: limit === 'time',
        limitExceeded: limit,
        outputTruncated: outcome.outputTruncated,
        filesChanged: before === undefined || after === undefined ? [] : diffSnapshots(before, after),
        durationMs: performance.now() - started,
        notes,
      };
    },
    async dispose() {
      for (const kill of running) kill();
      running.clear();
      for (const directory of [scratchWorkspace, cacheDirectory, blanks?.root]) {
        if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
      }
      scratchWorkspace = undefined;
      cacheDirectory = undefined;
      blanks = undefined;
    },
  };
}

/**
 * After a run stopped at the write limit: remove the files it created (a result cut off
 * mid-write must not pass for a whole one) and name the files it changed, which may be
 * incomplete. Returns the note for the result.
 */
function discardWrites(
  root: string,
  protectedPaths: ProtectedPaths,
  before: WorkspaceSnapshot,
  after: WorkspaceSnapshot,
  maxWriteBytes: number,
): string {
  const removed: string[] = [];
  const changed: string[] = [];
  for (const change of diffSnapshots(before, after)) {
    if (change.change === 'created') {
      try {
        removeFileWithoutLinks(workspaceAccess(root, protectedPaths), change.path);
        removed.push(change.path);
      } catch {
        changed.push(change.path);
      }
    } else if (change.change === 'modified') changed.push(change.path);
  }
  const named = (paths: string[]) =>
    paths.length <= 10 ? paths.join(', ') : `${paths.slice(0, 10).join(', ')} and ${paths.length - 10} more`;
  return [
    `The run wrote more than ${maxWriteBytes} bytes (the write limit, maxWriteBytes) and was stopped.`,
    removed.length > 0 ? `The files it created were removed: ${named(removed)}.` : 'It created no file that was kept.',
    changed.length > 0 ? `Files it changed may be incomplete: ${named(changed)}.` : '',
    'Write less (summaries, samples), or fewer and smaller files.',
  ]
    .filter((sentence) => sentence !== '')
    .join(' ');
}

/** The descriptor bubblewrap reads the seccomp program from (the pipe after stdin, stdout, stderr). */
const seccompDescriptor = 3;
const seccompFilter = diskSyscallFilter();

const bubblewrapHelp = new Map<string, string>();

/**
 * Whether this bubblewrap knows `option` (older ones lack `--size` and `--disable-userns`),
 * its help asked once per binary.
 */
export function bubblewrapSupports(bubblewrapPath: string, option: string): boolean {
  let help = bubblewrapHelp.get(bubblewrapPath);
  if (help === undefined) {
    const asked = spawnSync(bubblewrapPath, ['--help'], { encoding: 'utf8', env: sandboxSpawnEnvironment });
    help = `${asked.stdout ?? ''}${asked.stderr ?? ''}`;
    bubblewrapHelp.set(bubblewrapPath, help);
  }
  return new RegExp(`^\\s*${option}\\b`, 'm').test(help);
}

function createBlanks(): { root: string; file: string; directory: string } {
  const root = mkdtempSync(join(tmpdir(), 'hataraku-sandbox-blank-'));
  const file = join(root, 'empty-file');
  const directory = join(root, 'empty-directory');
  writeFileSync(file, '', { mode: 0o444 });
  mkdirSync(directory, { mode: 0o555 });
  return { root, file, directory };
}

/**
 * The isolation every bubblewrap sandbox shares: new namespaces (no network, own PID space) as
 * an unprivileged uid, the system read-only (only what interpreters read from /etc: no passwd,
 * shadow, hosts or credentials), Node's directory when it lies outside /usr, a fresh /proc and
 * /dev, and a private /tmp.
 */
export function isolationArguments(
  nodePath: string,
  scratch: { tmpfsBytes?: number; disableUserNamespaces?: boolean } = {},
): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    // Without it the code could make a user namespace of its own and mount an unsized tmpfs
    // there (memory the write limit never sees), or reach more of the kernel.
    ...(scratch.disableUserNamespaces === true ? ['--disable-userns'] : []),
    '--uid',
    String(sandboxUid),
    '--gid',
    String(sandboxUid),
    '--die-with-parent',
    '--new-session',
    '--hostname',
    'sandbox',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(top)) continue;
    if (lstatSync(top).isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
    else args.push('--ro-bind', top, top);
  }
  for (const path of [
    '/etc/alternatives',
    '/etc/ld.so.cache',
    '/etc/localtime',
    '/etc/matplotlibrc',
    '/etc/fonts',
    '/etc/python3',
    '/etc/python3.11',
    '/etc/ssl/openssl.cnf',
  ]) {
    if (existsSync(path)) args.push('--ro-bind', path, path);
  }
  const nodeDirectory = dirname(nodePath);
  if (!nodeDirectory.startsWith('/usr/')) args.push('--ro-bind', nodeDirectory, nodeDirectory);
  args.push('--proc', '/proc', '--dev', '/dev');
  // /tmp lives in memory: sized, it cannot take more than a run may write.
  if (scratch.tmpfsBytes !== undefined) args.push('--size', String(scratch.tmpfsBytes));
  args.push('--tmpfs', '/tmp');
  // bubblewrap's /dev is a writable tmpfs as large as half the host's memory, and pages written
  // through a memory map are not counted by the write watchdog: /dev is made read-only (its
  // devices still open for writing) and /dev/shm, which Python's multiprocessing needs, becomes
  // a tmpfs as small as /tmp (read-only with a bubblewrap too old to size it).
  if (scratch.tmpfsBytes !== undefined) args.push('--size', String(scratch.tmpfsBytes), '--tmpfs', '/dev/shm');
  args.push('--remount-ro', '/dev');
  return args;
}

/** The bubblewrap command line (before the program): isolation, the workspace, the environment. */
function bubblewrapArguments(
  workspace: string,
  cache: string,
  nodePath: string,
  overlays: ProtectedOverlay[],
  ancestors: string[],
  blanks: { file: string; directory: string },
  scratch: { tmpfsBytes?: number; disableUserNamespaces?: boolean },
): string[] {
  const nodeDirectory = dirname(nodePath);
  const args = [...isolationArguments(nodePath, scratch), '--bind', workspace, '/workspace'];
  // Each directory holding a protected entry becomes a mount point, so it cannot be renamed or
  // removed: the entry stays where its cover and its pattern are.
  for (const ancestor of ancestors) args.push('--bind', join(workspace, ancestor), `/workspace/${ancestor}`);
  // Protected entries are covered by an empty read-only file or directory: the code can neither
  // read what is there nor change it (a mount point cannot be removed, renamed or linked to).
  for (const overlay of overlays) {
    args.push('--ro-bind', overlay.directory ? blanks.directory : blanks.file, `/workspace/${overlay.relative}`);
  }
  args.push(
    '--bind',
    cache,
    '/var/cache/sandbox',
    '--remount-ro',
    '/',
    '--chdir',
    '/workspace',
    '--clearenv',
    '--setenv',
    'PATH',
    `/usr/local/bin:/usr/bin:/bin${nodeDirectory.startsWith('/usr/') ? '' : `:${nodeDirectory}`}`,
    '--setenv',
    'HOME',
    '/tmp',
    '--setenv',
    'TMPDIR',
    '/tmp',
    '--setenv',
    'LANG',
    'C.UTF-8',
    '--setenv',
    'MPLBACKEND',
    'Agg',
    '--setenv',
    'MPLCONFIGDIR',
    '/var/cache/sandbox/matplotlib',
    '--setenv',
    'PYTHONDONTWRITEBYTECODE',
    '1',
    '--setenv',
    'PYTHONUNBUFFERED',
    '1',
  );
  return args;
}

interface BubblewrapOutcome {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  limit: SandboxLimit | undefined;
  outputTruncated: boolean;
}

function runBubblewrap(request: {
  bubblewrapPath: string;
  args: string[];
  stdin: string;
  timeoutMs: number;
  maxOutputBytes: number;
  maxProcesses: number;
  countProcesses: boolean;
  /** Bytes the sandbox's processes may write in all (`wchar`), before it is stopped. */
  maxWrittenBytes: number;
  /** The size of the sandbox's /tmp and /dev/shm, when bubblewrap could size them. */
  tmpfsBytes: number | undefined;
  /** A seccomp program bubblewrap reads from descriptor `seccompDescriptor` (`--seccomp`). */
  seccompFilter: Buffer | undefined;
  running: Set<() => void>;
}): Promise<BubblewrapOutcome> {
  return new Promise((resolve, reject) => {
    // Join a pids cgroup before bubblewrap starts, so every process of the run is in it.
    const group = createPidsCgroup(request.maxProcesses + 4);
    const stdio: 'pipe'[] =
      request.seccompFilter === undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe'];
    const child = group
      ? spawn(
          '/bin/sh',
          ['-c', 'echo $$ > "$0" && exec "$@"', group.procsFile, request.bubblewrapPath, ...request.args],
          { stdio, detached: true, env: sandboxSpawnEnvironment },
        )
      : spawn(request.bubblewrapPath, request.args, { stdio, detached: true, env: sandboxSpawnEnvironment });
    if (request.seccompFilter !== undefined) {
      const filterPipe = child.stdio[seccompDescriptor] as Writable;
      filterPipe.on('error', () => undefined);
      filterPipe.end(request.seccompFilter);
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let outputTruncated = false;
    let limit: SandboxLimit | undefined;
    const kill = () => {
      group?.killAll();
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    request.running.add(kill);
    const stop = (reason: SandboxLimit) => {
      limit ??= reason;
      kill();
    };
    const collect = (chunks: Buffer[]) => (chunk: Buffer) => {
      if (outputTruncated) return;
      const room = request.maxOutputBytes - outputBytes;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        outputBytes = request.maxOutputBytes;
        outputTruncated = true;
        stop('output');
        return;
      }
      chunks.push(chunk);
      outputBytes += chunk.length;
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    child.stdin.on('error', () => undefined);
    child.stdin.end(request.stdin);
    const deadline = setTimeout(() => stop('time'), request.timeoutMs);
    // RLIMIT_NPROC holds for ordinary users; root's processes are exempt, so count them instead.
    // With a pids cgroup the kernel enforces the cap (and the run is stopped once a fork was
    // refused); without one, the process tree is counted from /proc.
    let ticks = 0;
    const watchdog = setInterval(() => {
      // Reading every process's counters is dearer than the process count: every fourth tick.
      if (
        ++ticks % 4 === 0 &&
        child.pid !== undefined &&
        bytesTakenByTree(child.pid, request.tmpfsBytes) > request.maxWrittenBytes
      ) {
        stop('disk');
        return;
      }
      if (group) {
        if (group.limitReached()) stop('processes');
      } else if (
        request.countProcesses &&
        child.pid !== undefined &&
        countProcessTree(child.pid) > request.maxProcesses + 2
      ) {
        stop('processes');
      }
    }, watchdogIntervalMs);
    child.once('error', (error) => {
      group?.dispose();
      clearTimeout(deadline);
      clearInterval(watchdog);
      request.running.delete(kill);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(deadline);
      clearInterval(watchdog);
      request.running.delete(kill);
      // bubblewrap is gone, so its PID namespace is too; the group kill is for a stray bwrap helper.
      kill();
      group?.dispose();
      resolve({
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        exitCode: limit === undefined ? exitCode : null,
        signal,
        limit,
        outputTruncated,
      });
    });
  });
}

/** Processes in the tree rooted at `rootPid` (including it), from /proc. */
function countProcessTree(rootPid: number): number {
  return processTree(rootPid).length;
}

/**
 * Bytes the processes of the tree rooted at `rootPid` passed to write() and its kin (`wchar`),
 * their reaped children's included (the kernel adds those to the parent when it reaps them).
 */
function bytesTakenByTree(rootPid: number, tmpfsBytes: number | undefined): number {
  let total = 0;
  const tree = processTree(rootPid);
  if (tmpfsBytes !== undefined) total += memoryFileSystemEntries(tree.slice(1), tmpfsBytes) * bytesPerMemoryEntry;
  for (const pid of tree) {
    try {
      const counters = readFileSync(`/proc/${pid}/io`, 'utf8');
      // write_bytes: pages the process dirtied, memory-mapped writes included, which wchar misses.
      const written = Number(/^wchar: (\d+)$/m.exec(counters)?.[1] ?? 0);
      const dirtied = Number(/^write_bytes: (\d+)$/m.exec(counters)?.[1] ?? 0);
      total += Math.max(written, dirtied);
    } catch {
      // Gone in between: its bytes now count in its parent's.
    }
  }
  return total;
}

/**
 * What the kernel keeps for each file, directory or link in a memory file system (an inode and
 * a name, about 1 KiB), counted toward the write limit: an empty file costs no byte of the
 * tmpfs's size, and a program made 350,000 of them in /tmp in 2.5 s.
 */
const bytesPerMemoryEntry = 1024;

const tmpfsMagic = 0x01021994;

/**
 * Entries in the sandbox's /tmp and /dev/shm, read through the root of one of its processes
 * (`/proc/<pid>/root`: the host sees the sandbox's mounts there); 0 when none can be read. A
 * process still setting the sandbox up sees the host's /tmp: only a tmpfs of exactly the size
 * the sandbox's has (`tmpfsBytes`, rounded up to whole pages) is counted.
 */
function memoryFileSystemEntries(sandboxPids: number[], tmpfsBytes: number): number {
  const isSandboxTmpfs = (counts: StatsFs) =>
    counts.type === tmpfsMagic && Math.abs(counts.blocks * counts.bsize - tmpfsBytes) < 65_536;
  for (const pid of sandboxPids) {
    try {
      let entries = 0;
      for (const mount of ['tmp', 'dev/shm']) {
        const counts = statfsSync(`/proc/${pid}/root/${mount}`);
        if (!isSandboxTmpfs(counts)) throw new Error('not the sandbox');
        entries += Math.max(0, counts.files - counts.ffree);
      }
      return entries;
    } catch {
      // Gone, or not in the sandbox (yet): try the next one.
    }
  }
  return 0;
}

/** The process ids of the tree rooted at `rootPid` (including it), from /proc. */
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [pid]);
    else siblings.push(pid);
  }
  const tree: number[] = [];
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    for (const child of children.get(pid) ?? []) pending.push(child);
  }
  return tree;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
