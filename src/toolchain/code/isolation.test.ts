/**
 * The sandbox boundaries of issue 8, attacked as a hostile model would: secrets in the host's
 * environment, Python reaching JavaScript on the wasm tier (and JavaScript, once reached,
 * reaching the host), protected workspace entries, and the `auto` tier choice. The process
 * tier and the bubblewrap-confined Python run wherever bubblewrap works, and must run in CI
 * (`HATARAKU_REQUIRE_BUBBLEWRAP=1` in `.ci/run`).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolContext } from '../../tools/tool-context.js';
import { createProtectedPaths, defaultProtectedPatterns } from '../files/protected-paths.js';
import { describeSandboxChoice } from './choose-sandbox.js';
import { type CodeRunOutput, createCodeTool } from './code-tool.js';
import { createProcessSandbox, probeProcessTier } from './process-sandbox.js';
import { type PyodideConfinement, spawnPyodideProcess } from './pyodide-sandbox.js';
import type { Sandbox } from './sandbox.js';
import { createWasmSandbox } from './wasm-sandbox.js';

const processTier = await probeProcessTier();
const requireBubblewrap = process.env.HATARAKU_REQUIRE_BUBBLEWRAP === '1' || process.env.CI !== undefined;
const skipBubblewrap = !processTier.available && !requireBubblewrap;
if (!processTier.available && skipBubblewrap) {
  console.warn(`isolation.test.ts: skipping the cases that need bubblewrap: ${processTier.reason}`);
}

const secret = `sk-test-secret-${randomUUID()}`;
const token = `ghp_test_${randomUUID().replaceAll('-', '')}`;
const secretNames = ['OPENAI_API_KEY', 'GITHUB_TOKEN'] as const;

let workspace: string;
let outside: string;
let server: Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  process.env.OPENAI_API_KEY = secret;
  process.env.GITHUB_TOKEN = token;
  workspace = mkdtempSync(join(tmpdir(), 'isolation-workspace-'));
  outside = mkdtempSync(join(tmpdir(), 'isolation-outside-'));
  writeFileSync(join(outside, 'secret.txt'), secret);
  writeFileSync(join(workspace, '.env'), `OPENAI_API_KEY=${secret}\n`);
  mkdirSync(join(workspace, '.git'));
  writeFileSync(join(workspace, '.git', 'config'), '[core]\n\tbare = false\n');
  writeFileSync(join(workspace, 'data.csv'), 'a,b\n1,2\n');
  server = createServer((_request, response) => response.end('reached'));
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

afterAll(async () => {
  for (const name of secretNames) delete process.env[name];
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(workspace, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** Every secret of the test, in the forms a program could print it. */
function leaks(text: string): string[] {
  return [secret, token].filter((value) => text.includes(value));
}

const pythonEnvironmentProbe = [
  'import os, glob',
  'seen = [repr(dict(os.environ))]',
  'read = 0',
  'for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline") + ["/proc/self/environ", "/proc/1/environ"]:',
  '    try:',
  '        seen.append(open(path, "rb").read().decode("latin-1")); read += 1',
  '    except OSError:',
  '        pass',
  'print("read", read)',
  'print("\\n".join(seen))',
].join('\n');

const javascriptEnvironmentProbe = [
  'const fs = require("fs");',
  'const seen = [JSON.stringify(process.env)];',
  'let read = 0;',
  'for (const entry of fs.readdirSync("/proc")) {',
  '  if (!/^\\d+$/.test(entry) && entry !== "self") continue;',
  '  for (const file of ["environ", "cmdline"]) {',
  '    try { seen.push(fs.readFileSync("/proc/" + entry + "/" + file, "latin1")); read++; } catch {}',
  '  }',
  '}',
  'console.log("read", read);',
  'console.log(seen.join("\\n"));',
].join('\n');

describe.skipIf(skipBubblewrap)('class 2: no secret of the host reaches the process tier', () => {
  let sandbox: Sandbox;
  beforeAll(() => {
    sandbox = createProcessSandbox({ workspace, timeoutMs: 10_000 });
  });
  afterAll(() => sandbox.dispose());

  for (const language of ['python', 'javascript'] as const) {
    it(`${language}: not in its environment, not in any /proc/*/environ it can read (bwrap's own included)`, async () => {
      const result = await sandbox.run({
        language,
        code: language === 'python' ? pythonEnvironmentProbe : javascriptEnvironmentProbe,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      // It did read environment files (its own at least), so the probe can see what is there.
      expect(Number(/read (\d+)/.exec(result.stdout)?.[1])).toBeGreaterThan(0);
      expect(leaks(result.stdout + result.stderr)).toEqual([]);
    });
  }
});

describe('class 2: no secret of the host reaches the wasm tier', () => {
  it('QuickJS has no environment at all', async () => {
    const sandbox = createWasmSandbox({ workspace });
    const result = await sandbox.run({
      language: 'javascript',
      code: 'console.log(typeof process, typeof require, typeof globalThis.std, typeof globalThis.os)',
    });
    await sandbox.dispose();
    expect(result.stdout.trim()).toBe('undefined undefined undefined undefined');
  });
});

/** The JavaScript a Python program would run once it reached the Pyodide process's JavaScript. */
const hostileJavaScript = `
const { parentPort, workerData } = globalThis.__pyodideChannel || require('node:worker_threads');
const report = {};
const attempt = async (name, action) => {
  try { report[name] = 'ALLOWED ' + String(await action()).slice(0, 20000); }
  catch (error) { report[name] = 'refused ' + (error && (error.code || error.message)); }
};
(async () => {
  const fs = require('node:fs');
  await attempt('env', () => JSON.stringify(process.env));
  await attempt('self-environ', () => fs.readFileSync('/proc/self/environ', 'latin1'));
  await attempt('init-environ', () => fs.readFileSync('/proc/1/environ', 'latin1'));
  await attempt('parent-environ', () => fs.readFileSync('/proc/' + process.ppid + '/environ', 'latin1'));
  await attempt('passwd', () => fs.readFileSync('/etc/passwd', 'utf8'));
  await attempt('outside-secret', () => fs.readFileSync(workerData.outsideSecret, 'utf8'));
  await attempt('workspace-env', () => fs.readFileSync(workerData.workspaceEnv, 'utf8'));
  await attempt('write-outside', () => { fs.writeFileSync(workerData.outsideWrite, 'pwned'); return 'written'; });
  await attempt('child-process', () => require('node:child_process').execFileSync('/bin/sh', ['-c', 'echo ran']).toString());
  await attempt('binding', () => Object.keys(process.binding('fs')).length);
  await attempt('addon', () => { process.dlopen({ exports: {} }, '/usr/lib/x86_64-linux-gnu/libc.so.6'); return 'loaded'; });
  await attempt('wasi', () => { new (require('node:wasi').WASI)({ version: 'preview1', preopens: { '/': '/' } }); return 'preopened'; });
  await attempt('worker-without-permissions', () => new Promise((resolve, reject) => {
    const { Worker } = require('node:worker_threads');
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:fs').readFileSync('/etc/passwd', 'utf8'))", { eval: true, execArgv: [] });
    worker.on('message', resolve);
    worker.on('error', reject);
  }));
  await attempt('network', () => new Promise((resolve, reject) => {
    const socket = require('node:net').connect(workerData.port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve('connected'); });
    socket.on('error', reject);
    setTimeout(() => reject(new Error('timeout')), 3000);
  }));
  parentPort.postMessage({ type: 'report', report });
})();
`;

/** Start the Pyodide process with `hostileJavaScript` in place of Pyodide, and collect its report. */
async function runHostile(confinement: PyodideConfinement): Promise<Record<string, string>> {
  const scratch = mkdtempSync(join(tmpdir(), 'isolation-scratch-'));
  const child: ChildProcess = spawnPyodideProcess(confinement, scratch);
  try {
    return await new Promise<Record<string, string>>((resolve, reject) => {
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.on('message', (message: { type?: string; report?: Record<string, string> }) => {
        if (message.type === 'report' && message.report !== undefined) resolve(message.report);
      });
      child.once('exit', (code) => reject(new Error(`the process ended (${code}) before reporting: ${stderr}`)));
      child.send({
        type: 'start',
        inline: confinement.kind === 'permission-model',
        workerSource: hostileJavaScript,
        workerData: {
          outsideSecret: join(outside, 'secret.txt'),
          outsideWrite: join(outside, 'pwned.txt'),
          workspaceEnv: join(workspace, '.env'),
          port,
        },
      });
    });
  } finally {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe('class 1: the Pyodide process holds nothing, even for code that reached its JavaScript', () => {
  it.skipIf(skipBubblewrap)(
    'inside bubblewrap: no secret, no host file, no write outside, no process, no network',
    async () => {
      const before = connections;
      const report = await runHostile({ kind: 'bubblewrap', bubblewrapPath: '/usr/bin/bwrap' });
      expect(leaks(JSON.stringify(report))).toEqual([]);
      for (const name of [
        'passwd',
        'outside-secret',
        'workspace-env',
        'write-outside',
        'child-process',
        'binding',
        'addon',
        'wasi',
        'worker-without-permissions',
        'network',
        'parent-environ',
      ]) {
        expect(report[name], name).toMatch(/^refused/);
      }
      expect(existsSync(join(outside, 'pwned.txt'))).toBe(false);
      expect(connections).toBe(before);
    },
    30_000,
  );

  it('under the permission model only: no secret, no host file, no write, no process', async () => {
    const report = await runHostile({ kind: 'permission-model' });
    expect(leaks(JSON.stringify(report))).toEqual([]);
    for (const name of [
      'passwd',
      'outside-secret',
      'workspace-env',
      'write-outside',
      'child-process',
      'binding',
      'addon',
      'wasi',
      'worker-without-permissions',
    ]) {
      expect(report[name], name).toMatch(/^refused/);
    }
    expect(existsSync(join(outside, 'pwned.txt'))).toBe(false);
    // Node's permission model does not cover the network: this is why `auto` never runs Python
    // this way, and why choosing it explicitly warns.
    expect(report.network).toMatch(/^ALLOWED connected/);
  }, 30_000);
});

describe.skipIf(skipBubblewrap)('class 1: Python on the wasm tier, attacked from Python', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = createWasmSandbox({
      workspace,
      timeoutMs: 5_000,
      pythonConfinement: { kind: 'bubblewrap', bubblewrapPath: '/usr/bin/bwrap' },
    });
    await sandbox.run({ language: 'python', code: 'pass' });
  }, 60_000);
  afterAll(() => sandbox.dispose());
  const py = (code: string) => sandbox.run({ language: 'python', code });

  it('finds no secret in os.environ, /proc or by walking sys.modules', async () => {
    const result = await py(
      [
        'import os, sys',
        'print(dict(os.environ))',
        'for path in ("/proc/self/environ", "/proc/1/environ"):',
        '    try:',
        '        print(open(path, "rb").read())',
        '    except OSError as error:',
        '        print("refused", path)',
        'for name, module in list(sys.modules.items()):',
        '    for attribute in dir(module):',
        '        try:',
        '            print(name, attribute, repr(getattr(module, attribute))[:200])',
        '        except Exception:',
        '            pass',
      ].join('\n'),
    );
    expect(result.stdout.length).toBeGreaterThan(1_000);
    expect(leaks(result.stdout + result.stderr)).toEqual([]);
  });

  it('reaching JavaScript through ctypes, the FFI or JsProxy constructors gets nothing, and the next run works', async () => {
    const attempts = [
      'import ctypes\nrun = ctypes.CDLL(None).emscripten_run_script_string\nrun.restype = ctypes.c_char_p\nprint(run(b"JSON.stringify(process.env)"))',
      'import js\nprint(js.process.env)',
      'import pyodide_js\nprint(pyodide_js.FS.mount)',
      'from pyodide.ffi import to_js\nprint(to_js({}).constructor.constructor("return JSON.stringify(process.env)")())',
      'import sys\nprint(sys.modules["_pyodide._importhook"].jsfinder.jsproxies)',
      'import os\nos.symlink("/etc", "/workspace/etc-link")\nprint(os.listdir("/workspace/etc-link"))',
    ];
    for (const code of attempts) {
      const result = await py(code);
      expect(leaks(result.stdout + result.stderr), code).toEqual([]);
      expect(result.stdout, code).not.toContain('root:x:0');
    }
    const after = await py('print(6 * 7)');
    expect(after.stdout.trim()).toBe('42');
  }, 60_000);

  it('a symbolic link made in Python never reaches the host workspace', async () => {
    const result = await py(
      `import os\nos.symlink(${JSON.stringify(outside)}, "escape")\nos.makedirs("sub", exist_ok=True)\nos.symlink("/etc/passwd", "sub/passwd")\nprint("ok")`,
    );
    expect(result.stdout.trim()).toBe('ok');
    expect(existsSync(join(workspace, 'escape'))).toBe(false);
    expect(existsSync(join(workspace, 'sub', 'passwd'))).toBe(false);
  });
});

describe('class 3/4 in sandboxes: protected entries', () => {
  it('QuickJS can neither read, write nor list them', async () => {
    const sandbox = createWasmSandbox({ workspace, protectedPaths: createProtectedPaths() });
    const js = (code: string) => sandbox.run({ language: 'javascript', code });
    const read = await js('console.log(readFile(".env"))');
    const write = await js('writeFile(".git/config", "[core]\\n\\tfsmonitor = touch /tmp/pwned")');
    const create = await js('writeFile("hataraku.config.json", "{}")');
    const nested = await js('writeFile("sub/.env.local", "X=1")');
    const listing = await js('console.log(JSON.stringify(listFiles(".")))');
    await sandbox.dispose();
    for (const result of [read, write, create, nested]) {
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/protected/);
    }
    expect(leaks(read.stdout)).toEqual([]);
    expect(readFileSync(join(workspace, '.git', 'config'), 'utf8')).not.toContain('fsmonitor');
    expect(existsSync(join(workspace, 'hataraku.config.json'))).toBe(false);
    expect(listing.stdout).toContain('data.csv');
    expect(listing.stdout).not.toMatch(/\.env|\.git/);
  });

  it.skipIf(skipBubblewrap)(
    'Pyodide gets no copy of them and cannot write them back',
    async () => {
      const sandbox = createWasmSandbox({
        workspace,
        pythonConfinement: { kind: 'bubblewrap', bubblewrapPath: '/usr/bin/bwrap' },
      });
      const result = await sandbox.run({
        language: 'python',
        code: [
          'import os',
          'print(sorted(os.listdir(".")))',
          'print(os.path.exists(".env"), os.path.exists(".git"))',
          'os.makedirs(".git", exist_ok=True)',
          'open(".git/config", "w").write("[core]\\n\\tfsmonitor = touch /tmp/pwned")',
          'open("hataraku.config.json", "w").write("{}")',
          'open(".env.production", "w").write("X=1")',
        ].join('\n'),
      });
      await sandbox.dispose();
      expect(result.stdout).toContain('False False');
      expect(leaks(result.stdout)).toEqual([]);
      expect(result.notes.join('\n')).toMatch(/\.git\/config was not saved: .*protected/);
      expect(readFileSync(join(workspace, '.git', 'config'), 'utf8')).not.toContain('fsmonitor');
      expect(existsSync(join(workspace, 'hataraku.config.json'))).toBe(false);
      expect(existsSync(join(workspace, '.env.production'))).toBe(false);
    },
    60_000,
  );

  for (const language of ['python', 'javascript'] as const) {
    it.skipIf(skipBubblewrap)(
      `process tier (${language}): covered, unreadable, and new ones removed`,
      async () => {
        const sandbox = createProcessSandbox({ workspace, timeoutMs: 10_000 });
        const python = [
          'import os',
          'print("env:", open(".env").read())',
          'print("git:", os.listdir(".git"))',
          'for path, text in ((".git/config", "[core]\\n\\tfsmonitor = x"), (".env", "X=1"), ("hataraku.config.json", "{}"), ("sub/.git/HEAD", "x"), (".env.local", "Y=2")):',
          '    try:',
          '        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)',
          '        open(path, "w").write(text); print("wrote", path)',
          '    except OSError as error:',
          '        print("refused", path, error.errno)',
          'for path in (".env", ".git"):',
          '    try:',
          '        os.rename(path, "moved"); print("MOVED", path)',
          '    except OSError as error:',
          '        print("refused move", path)',
        ].join('\n');
        const javascript = [
          'const fs = require("fs"); const path = require("path");',
          'console.log("env:", fs.readFileSync(".env", "utf8"));',
          'console.log("git:", JSON.stringify(fs.readdirSync(".git")));',
          'for (const [file, text] of [[".git/config", "[core]\\n\\tfsmonitor = x"], [".env", "X=1"], ["hataraku.config.json", "{}"], ["sub/.git/HEAD", "x"], [".env.local", "Y=2"]]) {',
          '  try { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, text); console.log("wrote", file); }',
          '  catch (error) { console.log("refused", file, error.code); }',
          '}',
          'for (const file of [".env", ".git"]) { try { fs.renameSync(file, "moved"); console.log("MOVED", file); } catch { console.log("refused move", file); } }',
        ].join('\n');
        const result = await sandbox.run({ language, code: language === 'python' ? python : javascript });
        await sandbox.dispose();
        expect(result.stdout).toContain('env: \n');
        expect(result.stdout).toMatch(/git: \[\]/);
        expect(leaks(result.stdout)).toEqual([]);
        expect(result.stdout).not.toContain('MOVED');
        expect(readFileSync(join(workspace, '.git', 'config'), 'utf8')).not.toContain('fsmonitor');
        expect(readFileSync(join(workspace, '.env'), 'utf8')).toContain(secret);
        for (const created of ['hataraku.config.json', 'sub/.git', '.env.local']) {
          expect(existsSync(join(workspace, created)), created).toBe(false);
        }
        expect(result.notes.join(' ')).toMatch(/Removed protected entries/);
        rmSync(join(workspace, 'sub'), { recursive: true, force: true });
      },
      30_000,
    );
  }
});

describe.skipIf(skipBubblewrap)('class 3 in the process tier: a protected link', () => {
  it('is put back as it was when the run replaces it', async () => {
    symlinkSync('data.csv', join(workspace, '.env.shared'));
    const sandbox = createProcessSandbox({ workspace, timeoutMs: 10_000 });
    const result = await sandbox.run({
      language: 'python',
      code: 'import os\nos.remove(".env.shared")\nopen(".env.shared", "w").write("OPENAI_BASE_URL=http://attacker")\nprint("replaced")',
    });
    await sandbox.dispose();
    expect(result.stdout.trim()).toBe('replaced');
    expect(readlinkSync(join(workspace, '.env.shared'))).toBe('data.csv');
    rmSync(join(workspace, '.env.shared'));
  });
});

describe.skipIf(skipBubblewrap)(
  'class 3 in the process tier: renaming the directory that holds a protected entry',
  () => {
    it('is refused, so a nested .env is neither moved out of its cover nor deleted, and an anchored pattern keeps matching', async () => {
      const own = mkdtempSync(join(tmpdir(), 'hataraku-isolation-rename-'));
      mkdirSync(join(own, 'sub'));
      writeFileSync(join(own, 'sub', '.env'), `OPENAI_API_KEY=${secret}`);
      // The journal inside the workspace is protected by an anchored pattern (`journal.path`).
      mkdirSync(join(own, 'state', 'db'), { recursive: true });
      writeFileSync(join(own, 'state', 'db', 'journal.db'), `approval ${secret}`);
      const protectedPaths = createProtectedPaths([...defaultProtectedPatterns, 'state/db/journal.db']);
      const sandbox = createProcessSandbox({ workspace: own, timeoutMs: 10_000, protectedPaths });
      const first = await sandbox.run({
        language: 'python',
        code: [
          'import os, shutil',
          'for old, new in (("sub", "sub2"), ("state", "open"), ("state/db", "state/db2")):',
          '    try:',
          '        os.rename(old, new); print("MOVED", old)',
          '    except OSError as error:',
          '        print("refused", old, error.errno)',
          'shutil.rmtree("sub", ignore_errors=True)',
        ].join('\n'),
      });
      // A second run, as a later code.run of the same run would be: the entries are still covered.
      const second = await sandbox.run({
        language: 'python',
        code: 'import os\nfor root, _, files in os.walk("."):\n    for name in files: print(os.path.join(root, name), open(os.path.join(root, name)).read())',
      });
      await sandbox.dispose();
      expect(first.stdout).not.toContain('MOVED');
      expect(first.stdout.match(/refused/g)).toHaveLength(3);
      expect(second.stdout).not.toContain(secret);
      expect(readFileSync(join(own, 'sub', '.env'), 'utf8')).toBe(`OPENAI_API_KEY=${secret}`);
      expect(readFileSync(join(own, 'state', 'db', 'journal.db'), 'utf8')).toBe(`approval ${secret}`);
      expect(first.notes.join(' ')).not.toMatch(/Removed protected entries/);
      rmSync(own, { recursive: true, force: true });
    });
  },
);

describe('the tier `auto` chooses, and the warning of an explicit wasm tier', () => {
  it('without bubblewrap, auto offers JavaScript on wasm but not Python, and says how to fix it', async () => {
    const choice = await describeSandboxChoice({ tier: 'auto', bubblewrapPath: '/nonexistent/bwrap' });
    expect(choice.tier).toBe('wasm');
    expect(choice.warnings).toEqual([]);
    expect(choice.python).toMatchObject({ unavailable: expect.stringMatching(/bubblewrap/) });
    const { createSandbox } = await import('./choose-sandbox.js');
    const sandbox = createSandbox(choice, { workspace });
    const python = await sandbox.run({ language: 'python', code: 'print(1)' });
    const javascript = await sandbox.run({ language: 'javascript', code: 'console.log(1)' });
    await sandbox.dispose();
    expect(python.exitCode).toBe(1);
    expect(python.stderr).toMatch(/Python is not offered here.*Install bubblewrap/);
    expect(javascript.stdout.trim()).toBe('1');
  });

  it('an explicit wasm tier without bubblewrap carries a typed warning', async () => {
    const choice = await describeSandboxChoice({ tier: 'wasm', bubblewrapPath: '/nonexistent/bwrap' });
    expect(choice.python).toEqual({ confinement: { kind: 'permission-model' } });
    expect(choice.warnings).toEqual([
      { code: 'python-weak-isolation', message: expect.stringMatching(/permission model.*Install bubblewrap/) },
    ]);
  });

  it('code.run shows that warning in its result and emits it once as a HatarakuSandboxWarning', async () => {
    const warnings: Error[] = [];
    const listener = (warning: Error) => warnings.push(warning);
    process.on('warning', listener);
    const codeTool = createCodeTool({ tier: 'wasm', bubblewrapPath: '/nonexistent/bwrap' });
    const context = createToolContext({ workspace });
    try {
      const first = (await codeTool.execute(
        { language: 'javascript', code: 'console.log(1)' },
        context,
      )) as CodeRunOutput;
      await codeTool.execute({ language: 'javascript', code: 'console.log(2)' }, context);
      await new Promise((resolve) => setImmediate(resolve));
      expect(first.warnings.map((warning) => warning.code)).toEqual(['python-weak-isolation']);
      expect(first.text).toMatch(/^warning: Python on the wasm tier runs without bubblewrap/m);
      const emitted = warnings.filter((warning) => warning.name === 'HatarakuSandboxWarning');
      expect(emitted).toHaveLength(1);
      expect((emitted[0] as Error & { code?: string }).code).toBe('python-weak-isolation');
    } finally {
      process.off('warning', listener);
      await context.dispose();
    }
  });

  it.skipIf(skipBubblewrap)('with bubblewrap, the wasm tier runs Python inside it, without warning', async () => {
    const choice = await describeSandboxChoice({ tier: 'wasm' });
    expect(choice.python).toEqual({ confinement: { kind: 'bubblewrap', bubblewrapPath: '/usr/bin/bwrap' } });
    expect(choice.warnings).toEqual([]);
  });
});

/** A process's state letter and start time (fields 3 and 22 of its stat line), or undefined once gone. */
function processState(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

/** The processes below `root` (children, grandchildren, ...), from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Ended while we looked.
    }
  }
  const found: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop() as number) ?? []) {
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}

describe.skipIf(skipBubblewrap)('every process a Python run started ends with the sandbox', () => {
  it('the Pyodide process and everything below it are gone after dispose', async () => {
    const before = new Set(descendants(process.pid));
    const sandbox = createWasmSandbox({
      workspace,
      pythonConfinement: { kind: 'bubblewrap', bubblewrapPath: '/usr/bin/bwrap' },
    });
    await sandbox.run({ language: 'python', code: 'print(1)' });
    const started = descendants(process.pid)
      .filter((pid) => !before.has(pid))
      .map((pid) => ({ pid, startTime: processState(pid)?.startTime }));
    expect(started.length).toBeGreaterThan(0);
    await sandbox.dispose();
    // Still running: the same process (its start time, as a PID can be reused), and not a zombie,
    // which has ended and only waits to be reaped, by a parent that may not be ours (a process
    // whose parent died first is reaped by PID 1, which in a container may never do it).
    const running = () =>
      started
        .filter(({ pid, startTime }) => {
          const state = processState(pid);
          return state !== undefined && state.startTime === startTime && state.state !== 'Z';
        })
        .map(({ pid }) => pid);
    let alive = running();
    for (let attempt = 0; attempt < 40 && alive.length > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      alive = running();
    }
    expect(alive).toEqual([]);
  }, 60_000);
});
