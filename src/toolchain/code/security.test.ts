/**
 * The sandbox security suite: in each tier and language, code tries to read host files, write
 * outside the workspace, open a network connection, fork without bound, allocate without
 * bound, loop forever, flood stdout and leave a child process behind. Every attempt must be
 * contained with a clear result, and the host must stay healthy afterwards.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessSandbox, probeProcessTier } from './process-sandbox.js';
import type { Sandbox } from './sandbox.js';
import { createWasmSandbox } from './wasm-sandbox.js';

const processTier = await probeProcessTier();
// In CI the process tier must run (bubblewrap is installed there); elsewhere it may be absent.
const skipProcessTier =
  !processTier.available && process.env.CI === undefined && process.env.HATARAKU_REQUIRE_BUBBLEWRAP !== '1';
// Python on the wasm tier runs inside bubblewrap where it works; elsewhere under Node's permission model.
const pythonConfinement = processTier.available
  ? ({ kind: 'bubblewrap', bubblewrapPath: '/usr/bin/bwrap' } as const)
  : ({ kind: 'permission-model' } as const);

let server: Server;
let port = 0;
let connections = 0;
let workspace: string;
let outside: string;

beforeAll(async () => {
  server = createServer((_request, response) => response.end('reached'));
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
  workspace = mkdtempSync(join(tmpdir(), 'sandbox-security-'));
  outside = mkdtempSync(join(tmpdir(), 'sandbox-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'top secret');
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(workspace, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** Processes on this machine whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker))
        found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Processes with `marker` still alive after up to `waitMs` (the kernel reaps a killed namespace quickly, not instantly). */
async function survivorsAfter(marker: string, waitMs = 2_000): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  let found = processesWith(marker);
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    found = processesWith(marker);
  }
  return found;
}

describe('wasm tier, JavaScript (QuickJS)', () => {
  let sandbox: Sandbox;
  beforeAll(() => {
    sandbox = createWasmSandbox({ workspace, memoryMb: 32, timeoutMs: 1_000, maxOutputBytes: 10_000 });
  });
  afterAll(() => sandbox.dispose());
  const js = (code: string) => sandbox.run({ language: 'javascript', code });

  it('cannot read /etc/passwd or /root: paths are confined to the workspace', async () => {
    for (const path of ['/etc/passwd', '../../../../etc/passwd', '/root']) {
      const result = await js(`readFile(${JSON.stringify(path)})`);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/absolute|outside the workspace/);
      expect(result.stderr).not.toContain('root:x:');
    }
    const listing = await js('listFiles("/root")');
    expect(listing.stderr).toMatch(/absolute/);
  });

  it('cannot write outside the workspace, even through a link', async () => {
    const { symlinkSync } = await import('node:fs');
    symlinkSync(outside, join(workspace, 'escape-link'));
    const direct = await js(`writeFile(${JSON.stringify(join(outside, 'x.txt'))}, 'x')`);
    const viaLink = await js('writeFile("escape-link/x.txt", "x")');
    expect(direct.stderr).toMatch(/absolute/);
    expect(viaLink.stderr).toMatch(/link that points outside/);
    expect(existsSync(join(outside, 'x.txt'))).toBe(false);
    rmSync(join(workspace, 'escape-link'));
  });

  it('has no network, process or module API at all', async () => {
    const result = await js(
      'console.log([typeof fetch, typeof XMLHttpRequest, typeof WebSocket, typeof require, typeof process, typeof setTimeout, typeof Deno].join(","))',
    );
    expect(result.stdout.trim()).toBe('undefined,undefined,undefined,undefined,undefined,undefined,undefined');
    const dynamicImport = await js(
      'import("node:net").then(() => console.log("loaded"), (error) => console.log("refused", error.message))',
    );
    expect(dynamicImport.stdout).not.toContain('loaded');
    expect(connections).toBe(0);
  });

  it('stops an allocation loop at the memory cap, and the next run works', async () => {
    const result = await sandbox.run({
      language: 'javascript',
      code: 'const items = []; while (true) items.push({ index: items.length, text: "item" + items.length });',
      timeoutMs: 20_000,
    });
    expect(result.limitExceeded).toBe('memory');
    expect(result.exitCode).toBeNull();
    const after = await js('console.log(6 * 7)');
    expect(after.stdout.trim()).toBe('42');
  }, 30_000);

  it('replaces the worker when WebAssembly memory passes the hard cap, and says the context was reset', async () => {
    await js('globalThis.kept = 1');
    // One large typed array is allocated at once by QuickJS's allocator and trips the cap on growth.
    const result = await sandbox.run({
      language: 'javascript',
      code: 'const big = new Uint8Array(200 * 1024 * 1024); console.log(big.length)',
      timeoutMs: 20_000,
    });
    expect(result.limitExceeded).toBe('memory');
    const after = await js('console.log(typeof kept)');
    expect(after.stdout.trim()).toBe('undefined');
    expect(after.notes.join(' ')).toMatch(/memory cap.*reset/);
  }, 30_000);

  it('stops an endless loop at the deadline', async () => {
    const started = Date.now();
    const result = await js('while (true) {}');
    expect(result.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('stops an output flood at the output cap', async () => {
    const result = await js('while (true) console.log("flood flood flood")');
    expect(result.limitExceeded).toBe('output');
    expect(result.outputTruncated).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(10_000);
  });
});

describe('wasm tier, Python (Pyodide)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = createWasmSandbox({
      workspace,
      memoryMb: 128,
      timeoutMs: 2_000,
      maxOutputBytes: 10_000,
      pythonConfinement,
    });
    await sandbox.run({ language: 'python', code: 'pass' });
  }, 60_000);
  afterAll(() => sandbox.dispose());
  const py = (code: string) => sandbox.run({ language: 'python', code });

  it('sees an in-memory file system: no /etc/passwd, no /root, no host files', async () => {
    const result = await py(
      [
        'import os',
        `for path in ("/etc/passwd", "/root/.bashrc", ${JSON.stringify(join(outside, 'secret.txt'))}):`,
        '    try:',
        '        open(path).read(); print("READ", path)',
        '    except OSError as error:',
        '        print("refused", type(error).__name__)',
      ].join('\n'),
    );
    expect(result.stdout).not.toContain('READ');
    expect(result.stdout.match(/refused/g)).toHaveLength(3);
  });

  it('cannot write outside the workspace: writes elsewhere stay in memory', async () => {
    const target = join(outside, 'written.txt');
    const result = await py(
      `import os\nos.makedirs(${JSON.stringify(outside)}, exist_ok=True)\nopen(${JSON.stringify(target)}, "w").write("x")\nprint("ok")`,
    );
    expect(result.stdout.trim()).toBe('ok');
    expect(existsSync(target)).toBe(false);
    expect(result.filesChanged).toEqual([]);
  });

  it('cannot reach JavaScript or the host through the Pyodide bridge', async () => {
    const attempts = [
      'import js',
      'import pyodide_js',
      'from pyodide.code import run_js\nrun_js("process")',
      'from pyodide.ffi import to_js\nto_js({}).constructor.constructor("return process")()',
      'from pyodide.ffi import to_js\nto_js([]).map.constructor("return 1")()',
    ];
    for (const code of attempts) {
      const result = await py(code);
      expect(result.exitCode, code).toBe(1);
      expect(result.stderr, code).toMatch(/not available in this sandbox|ModuleNotFoundError|ImportError/);
    }
  });

  it('cannot open a network connection', async () => {
    for (const code of [
      `import socket\nsocket.create_connection(("127.0.0.1", ${port}), timeout=1)`,
      `import urllib.request\nurllib.request.urlopen("http://127.0.0.1:${port}/", timeout=1)`,
    ]) {
      const result = await py(code);
      expect(result.exitCode, code).toBe(1);
      expect(result.stderr, code).toMatch(/PermissionError|not available/);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(connections).toBe(0);
  });

  it('cannot fork or start a process, so none can be left behind', async () => {
    const result = await py(
      'import os, subprocess\nfor attempt in (lambda: os.fork(), lambda: subprocess.Popen(["sleep", "1000"])):\n    try:\n        attempt(); print("STARTED")\n    except Exception as error:\n        print("refused", type(error).__name__)',
    );
    expect(result.stdout).not.toContain('STARTED');
    expect(result.stdout.match(/refused/g)).toHaveLength(2);
  });

  it('turns unbounded allocation into a MemoryError at the cap', async () => {
    const result = await py('blocks = []\nwhile True:\n    blocks.append(bytearray(1_000_000))');
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr + result.notes.join(' ')).toMatch(/MemoryError|memory/);
  });

  // The KeyboardInterrupt comes from a second thread of the Pyodide process, which exists only
  // inside bubblewrap (without it, a worker thread could leave Node's permission model).
  it.skipIf(pythonConfinement.kind !== 'bubblewrap')(
    'interrupts an endless loop at the deadline and keeps the interpreter (inside bubblewrap)',
    async () => {
      await py('survivor = 7');
      const result = await py('while True:\n    pass');
      expect(result.timedOut).toBe(true);
      const after = await py('print(survivor)');
      expect(after.notes).toEqual([]);
      expect(after.stdout.trim()).toBe('7');
    },
  );

  // One write of the interrupt can be lost (Pyodide reads and clears it in two steps), so past
  // the deadline it comes again until the run ends: a program that catches the first one and
  // loops on is stopped by the next, and the interpreter is kept.
  it.skipIf(pythonConfinement.kind !== 'bubblewrap')(
    'interrupts again a program that catches the KeyboardInterrupt and loops on (inside bubblewrap)',
    async () => {
      await py('survivor = 8');
      const result = await py(
        'try:\n    while True:\n        pass\nexcept KeyboardInterrupt:\n    print("caught")\n    while True:\n        pass',
      );
      expect(result.timedOut).toBe(true);
      const after = await py('print(survivor)');
      expect(after.notes).toEqual([]);
      expect(after.stdout.trim()).toBe('8');
    },
  );

  it.skipIf(pythonConfinement.kind === 'bubblewrap')(
    'stops an endless loop at the deadline by replacing the interpreter, and says so (no bubblewrap)',
    async () => {
      await py('survivor = 7');
      const result = await py('while True:\n    pass');
      expect(result.timedOut).toBe(true);
      const after = await py('print("survivor" in globals())');
      expect(after.stdout.trim()).toBe('False');
      expect(after.notes.join(' ')).toMatch(/killed; the interpreter was reset/);
    },
  );

  it('stops an output flood at the output cap', async () => {
    const result = await py('while True:\n    print("flood " * 20)');
    expect(result.limitExceeded).toBe('output');
    expect(result.stdout.length).toBeLessThanOrEqual(10_000);
  });
});

for (const language of ['python', 'javascript'] as const) {
  describe.skipIf(skipProcessTier)(`process tier, ${language} (bubblewrap)`, () => {
    let sandbox: Sandbox;
    beforeAll(() => {
      sandbox = createProcessSandbox({
        workspace,
        memoryMb: 256,
        timeoutMs: 5_000,
        maxOutputBytes: 10_000,
        maxProcesses: 32,
      });
    });
    afterAll(() => sandbox.dispose());
    const run = (python: string, javascript: string) =>
      sandbox.run({ language, code: language === 'python' ? python : javascript });

    it('cannot read /etc/passwd, /root or files outside the workspace', async () => {
      const secret = join(outside, 'secret.txt');
      const result = await run(
        `import os\nfor path in ("/etc/passwd", "/root", ${JSON.stringify(secret)}):\n    print(path, os.path.exists(path))`,
        `const fs = require("fs");\nfor (const path of ["/etc/passwd", "/root", ${JSON.stringify(secret)}]) console.log(path, fs.existsSync(path) ? "True" : "False");`,
      );
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain('True');
      expect(result.stdout.match(/False/g)).toHaveLength(3);
    });

    it('cannot write outside the workspace: the system is read-only', async () => {
      const result = await run(
        'for path in ("/usr/evil", "/etc/evil", "/evil"):\n    try:\n        open(path, "w").write("x"); print("WROTE", path)\n    except OSError as error:\n        print("refused", error.errno)',
        'const fs = require("fs");\nfor (const path of ["/usr/evil", "/etc/evil", "/evil"]) { try { fs.writeFileSync(path, "x"); console.log("WROTE", path); } catch (error) { console.log("refused", error.code); } }',
      );
      expect(result.stdout).not.toContain('WROTE');
      expect(result.stdout.match(/refused/g)).toHaveLength(3);
      expect(existsSync('/usr/evil') || existsSync('/etc/evil') || existsSync('/evil')).toBe(false);
    });

    it('runs as an unprivileged user with an empty environment', async () => {
      const result = await run(
        'import os\nprint(os.getuid(), os.getgid(), sorted(os.environ))',
        'console.log(process.getuid(), process.getgid(), JSON.stringify(Object.keys(process.env).sort()))',
      );
      expect(result.stdout).toMatch(/^65534 65534 /);
      expect(result.stdout).not.toMatch(/OPENAI|API_KEY|TOKEN|SECRET/i);
    });

    it('cannot open a network connection', async () => {
      const result = await run(
        `import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=1); print("CONNECTED")\nexcept OSError as error:\n    print("refused", error.errno)`,
        `const net = require("net");\nconst socket = net.connect(${port}, "127.0.0.1");\nsocket.on("connect", () => { console.log("CONNECTED"); socket.destroy(); });\nsocket.on("error", (error) => console.log("refused", error.code));`,
      );
      expect(result.stdout).toContain('refused');
      expect(result.stdout).not.toContain('CONNECTED');
      expect(connections).toBe(0);
    });

    it('contains a fork bomb at the process limit', async () => {
      const result = await run(
        'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass',
        'const { spawn } = require("child_process");\nconst bomb = () => { try { spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]).on("error", () => {}); } catch {} setImmediate(bomb); };\nbomb();',
      );
      expect(result.exitCode).toBeNull();
      expect(['processes', 'time', 'cpu']).toContain(result.limitExceeded);
      expect(await survivorsAfter('setInterval(() => {}, 1000)')).toEqual([]);
    }, 20_000);

    it('stops unbounded allocation at the memory limit', async () => {
      const result = await run(
        'blocks = []\nwhile True:\n    blocks.append(bytearray(10_000_000))',
        'const blocks = [];\nwhile (true) blocks.push(new Array(1e6).fill(blocks.length));',
      );
      expect(result.exitCode).not.toBe(0);
      expect(result.limitExceeded).toBe('memory');
    }, 20_000);

    it('kills an endless loop at the deadline', async () => {
      const started = Date.now();
      const result = await sandbox.run({
        language,
        code: language === 'python' ? 'while True:\n    pass' : 'while (true) {}',
        timeoutMs: 1_000,
      });
      expect(result.timedOut).toBe(true);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('stops an output flood at the output cap', async () => {
      const result = await run(
        'while True:\n    print("flood " * 20)',
        'while (true) console.log("flood ".repeat(20));',
      );
      expect(result.limitExceeded).toBe('output');
      expect(result.outputTruncated).toBe(true);
      expect(result.stdout.length).toBeLessThanOrEqual(10_000);
    });

    it('leaves no child process behind', async () => {
      const marker = `sleep ${1000 + (language === 'python' ? 1 : 2)}`;
      const result = await run(
        `import subprocess\nsubprocess.Popen(["sleep", "${marker.split(' ')[1]}"])\nprint("started")`,
        `const { spawn } = require("child_process");\nspawn("sleep", ["${marker.split(' ')[1]}"], { detached: true, stdio: "ignore" }).unref();\nconsole.log("started");`,
      );
      expect(result.stdout.trim()).toBe('started');
      expect(await survivorsAfter(marker)).toEqual([]);
    });
  });
}

describe('the host after the suite', () => {
  it('still runs code normally and its memory is sane', async () => {
    const sandbox = createWasmSandbox({ workspace });
    const result = await sandbox.run({ language: 'javascript', code: 'console.log(6 * 7)' });
    await sandbox.dispose();
    expect(result.stdout.trim()).toBe('42');
    expect(process.memoryUsage().rss).toBeLessThan(2 * 1024 * 1024 * 1024);
    expect(connections).toBe(0);
  });
});
