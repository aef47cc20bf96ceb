/**
 * The program of the Pyodide worker thread, kept as plain JavaScript text and started with
 * `new Worker(source, { eval: true })` in the Pyodide process (`pyodide-host-source.ts`).
 *
 * The boundary is that process (empty environment, no workspace, bubblewrap where it works):
 * what follows is a second layer only, which makes the obvious routes fail with a clear
 * message. Pyodide can call into JavaScript, so after loading, the worker closes the bridge
 * before any user code runs:
 * - the `js` and `pyodide_js` modules are unregistered and their import is refused, and
 *   `js` only ever saw an empty object (`jsglobals`);
 * - the Function constructors and `eval` of this realm throw, so a JavaScript object reached
 *   from Python cannot be turned into code; `Error.prepareStackTrace` is frozen;
 * - the loader's `require` no longer hands out `ws`, `fs` or `child_process`, and a Python
 *   audit hook (which cannot be removed) refuses every socket operation;
 * - WebAssembly memory growth past the cap is refused, so Python gets a `MemoryError`.
 * The Python file system is Pyodide's in-memory one; the workspace is copied in at `/workspace`
 * before a run and what the run wrote is sent back to the parent, which writes it through the
 * workspace confinement. An endless loop is stopped with a KeyboardInterrupt through the
 * interrupt buffer, which Python reads only while the program runs, and the parent terminates
 * the worker if even that fails.
 */
export const pyodideWorkerSource = String.raw`
'use strict';
// In a worker, its port; on the main thread of the Pyodide process (no bubblewrap), the IPC channel.
const { parentPort, workerData } = globalThis.__pyodideChannel || require('node:worker_threads');
const { pyodideUrl, indexURL, memoryMb, maxOutputBytes, interruptBuffer } = workerData;

// Node's permission model refuses process.binding; Emscripten only asks it for the file flags.
const deniedBinding = process.binding;
process.binding = function binding(name) {
  if (name === 'constants') return { fs: require('node:fs').constants, os: require('node:os').constants };
  return deniedBinding.call(process, name);
};

let hardMemoryBytes = Infinity;
let limit = undefined;
const originalGrow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function grow(pages) {
  if (this.buffer.byteLength + pages * 65536 > hardMemoryBytes) {
    limit = 'memory';
    throw new RangeError('sandbox memory cap reached');
  }
  return originalGrow.call(this, pages);
};

let output = undefined;
const writer = (stream) => ({
  write(bytes) {
    if (output === undefined) return bytes.length;
    const room = maxOutputBytes - output.bytes;
    if (bytes.length > room) {
      output[stream].push(Buffer.from(bytes.subarray(0, Math.max(0, room))).toString());
      output.bytes = maxOutputBytes;
      output.truncated = true;
      if (limit === undefined) limit = 'output';
      interrupt[0] = 2;
      return bytes.length;
    }
    output[stream].push(Buffer.from(bytes).toString());
    output.bytes += bytes.length;
    return bytes.length;
  },
});
const interrupt = new Uint8Array(interruptBuffer);

const lockdownPython = [
  'import sys',
  'for _name in ("js", "pyodide_js", "pyodide.code", "pyodide.http", "pyodide.webloop"):',
  '    sys.modules.pop(_name, None)',
  'class _RefuseBridge:',
  '    _blocked = {"js", "pyodide_js", "pyodide.code", "pyodide.http", "pyodide.webloop", "micropip"}',
  '    def find_spec(self, name, path=None, target=None):',
  '        if name in self._blocked:',
  '            raise ImportError(f"{name} is not available in this sandbox")',
  '        return None',
  'sys.meta_path.insert(0, _RefuseBridge())',
  'def _audit(event, args):',
  '    if event.startswith("socket.") or event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork"):',
  '        raise PermissionError(f"{event}: network and processes are not available in this sandbox")',
  'sys.addaudithook(_audit)',
  'del _RefuseBridge, _audit, _name',
  'import os',
  'os.makedirs("/workspace", exist_ok=True)',
  'os.chdir("/workspace")',
].join('\n');

// Pyodide's own frames (how it evaluates the code) say nothing to the program's author.
function userTraceback(text) {
  const lines = text.split('\n');
  const kept = [];
  let skipping = false;
  for (const line of lines) {
    if (line.startsWith('  File "')) skipping = line.includes('/_pyodide/');
    else if (!line.startsWith('    ')) skipping = false;
    if (!skipping) kept.push(line);
  }
  const joined = kept.join('\n').trimEnd();
  return joined + '\n';
}

(async () => {
  const { loadPyodide } = await (globalThis.__pyodideChannel ? globalThis.__pyodideChannel.importModule(pyodideUrl) : import(pyodideUrl));
  const pyodide = await loadPyodide({ indexURL, jsglobals: Object.create(null) });
  pyodide.setStdout(writer('stdout'));
  pyodide.setStderr(writer('stderr'));
  const FS = pyodide.FS;
  pyodide.unregisterJsModule('js');
  pyodide.unregisterJsModule('pyodide_js');
  pyodide.runPython(lockdownPython);

  const refused = function refused() { throw new Error('code generation is not available in this sandbox'); };
  for (const sample of [function () {}, async function () {}, function* () {}, async function* () {}]) {
    Object.defineProperty(Object.getPrototypeOf(sample), 'constructor', { value: refused, writable: false, configurable: false });
  }
  Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });
  globalThis.eval = refused;
  const loaderRequire = globalThis.require;
  globalThis.require = (name) => {
    if (name === 'crypto' && typeof loaderRequire === 'function') return loaderRequire(name);
    throw new Error('module ' + name + ' is not available in this sandbox');
  };
  hardMemoryBytes = pyodide._module.HEAP8.buffer.byteLength + memoryMb * 1024 * 1024;

  const stamps = new Map();
  const walk = (directory, prefix, visit) => {
    for (const name of FS.readdir(directory)) {
      if (name === '.' || name === '..') continue;
      const full = directory + '/' + name;
      const relative = prefix === '' ? name : prefix + '/' + name;
      const stat = FS.lstat(full);
      if (FS.isDir(stat.mode)) walk(full, relative, visit);
      else if (FS.isFile(stat.mode)) visit(relative, full, stat);
    }
  };
  const mkdirs = (path) => {
    let current = '';
    for (const part of path.split('/').slice(0, -1)) {
      current += '/' + part;
      try { FS.mkdir(current); } catch {}
    }
  };

  parentPort.on('message', async (message) => {
    if (message.type !== 'run') return;
    for (const file of message.files) {
      const target = '/workspace/' + file.path;
      mkdirs(target);
      FS.writeFile(target, new Uint8Array(file.data));
      stamps.set(file.path, FS.stat(target).mtime.getTime());
    }
    for (const path of message.removed) {
      try { FS.unlink('/workspace/' + path); } catch {}
      stamps.delete(path);
    }
    output = { stdout: [], stderr: [], bytes: 0, truncated: false };
    limit = undefined;
    // The interrupt flag is cleared by the process before it posts the run and starts the
    // deadline timer; clearing it here too could wipe an interrupt that fired while this run
    // was still being set up.
    let exitCode = 0;
    try {
      FS.chdir('/workspace');
      pyodide.setInterruptBuffer(interrupt);
      pyodide.runPython(message.code, { filename: '<main>' });
    } catch (error) {
      exitCode = 1;
      const text = error && error.message ? String(error.message) : String(error);
      if (limit === undefined && /KeyboardInterrupt/.test(text)) limit = 'time';
      if (limit === undefined || limit === 'memory') output.stderr.push(userTraceback(text));
    }
    // Past the deadline the process raises the interrupt again and again until the result is
    // back: from here on Python no longer reads it (one landing in the checks below would read
    // as a broken interpreter).
    pyodide.setInterruptBuffer(undefined);
    const written = [];
    const transfer = [];
    const present = new Set();
    try {
      walk('/workspace', '', (relative, full, stat) => {
        present.add(relative);
        const mtime = stat.mtime.getTime();
        if (stamps.get(relative) === mtime) return;
        stamps.set(relative, mtime);
        const data = FS.readFile(full);
        written.push({ path: relative, data: data.buffer });
        transfer.push(data.buffer);
      });
    } catch {}
    const deleted = [...stamps.keys()].filter((path) => !present.has(path));
    // A run can leave Pyodide fatally broken (e.g. a refused code generation from ctypes):
    // the parent then replaces the process. A KeyboardInterrupt that Python took just before the
    // buffer was let go is still pending and lands in the first check: that is not breakage.
    let fatal = false;
    try { pyodide.runPython('None'); } catch (error) {
      if (!/KeyboardInterrupt/.test(String(error && error.message))) fatal = true;
      else try { pyodide.runPython('None'); } catch { fatal = true; }
    }
    for (const path of deleted) stamps.delete(path);
    const result = {
      type: 'result', id: message.id,
      stdout: output.stdout.join(''), stderr: output.stderr.join(''),
      exitCode: limit === undefined ? exitCode : null, limit, outputTruncated: output.truncated,
      written, deleted, fatal,
    };
    output = undefined;
    parentPort.postMessage(result, transfer);
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((error) => {
  parentPort.postMessage({ type: 'failed', error: error && error.stack ? error.stack : String(error) });
});
`;
