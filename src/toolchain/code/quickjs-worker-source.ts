/**
 * The program of the QuickJS worker thread, kept as plain JavaScript text and started with
 * `new Worker(source, { eval: true })`. Keeping it as text means the same code runs from the
 * TypeScript sources (tests) and from the compiled `dist/` without a separate build step.
 *
 * The worker owns one QuickJS WebAssembly module, runtime and context; the context lives as
 * long as the worker, so globals persist between runs like a notebook. Memory is capped twice:
 * QuickJS's own allocator limit gives a catchable "out of memory" error, and the interrupt
 * handler checks the size of the WebAssembly memory itself (which only grows) against the hard
 * cap, since QuickJS's accounting does not count every allocation; and `WebAssembly.Memory`
 * growth past the cap is refused outright, so the heap cannot grow beyond it at all. File functions are answered
 * by the parent thread over a synchronous message channel, so every path goes through the
 * parent's workspace confinement.
 */
export const quickjsWorkerSource = String.raw`
'use strict';
const { parentPort, workerData, receiveMessageOnPort } = require('node:worker_threads');
const { quickjsPath, memoryLimitBytes, hardMemoryBytes, maxOutputBytes, filePort, control } = workerData;
const signal = new Int32Array(control);

// A hard cap on the WebAssembly memory: Emscripten grows its heap through Memory.grow, and a
// refused growth makes malloc fail, which QuickJS turns into an "out of memory" error.
const originalGrow = WebAssembly.Memory.prototype.grow;
WebAssembly.Memory.prototype.grow = function grow(pages) {
  if (this.buffer.byteLength + pages * 65536 > hardMemoryBytes) {
    if (run !== undefined) run.limit = 'memory';
    throw new RangeError('sandbox memory cap reached');
  }
  return originalGrow.call(this, pages);
};
let run = undefined;

function callHost(request) {
  Atomics.store(signal, 0, 0);
  filePort.postMessage(request);
  const waited = Atomics.wait(signal, 0, 0, 30000);
  if (waited === 'timed-out') throw new Error('the workspace did not answer in time');
  const reply = receiveMessageOnPort(filePort);
  if (reply === undefined) throw new Error('the workspace did not answer');
  if (!reply.message.ok) throw new Error(reply.message.error);
  return reply.message.value;
}

(async () => {
  const quickjs = require(quickjsPath);
  const module = await quickjs.newQuickJSWASMModuleFromVariant(quickjs.RELEASE_SYNC);
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(memoryLimitBytes);
  runtime.setMaxStackSize(1024 * 1024);
  const context = runtime.newContext();

  const wasmBytes = () => module.getWasmMemory().buffer.byteLength;

  runtime.setInterruptHandler(() => {
    if (run === undefined) return false;
    if (run.outputOverflow) return true;
    if (wasmBytes() > hardMemoryBytes) { run.limit = 'memory'; return true; }
    if (Date.now() > run.deadline) { run.limit = 'time'; return true; }
    return false;
  });

  const format = (handle) => {
    const type = context.typeof(handle);
    if (type === 'string') return context.getString(handle);
    if (type === 'object' && handle !== context.null) {
      const json = context.getProp(context.global, 'JSON');
      const stringify = context.getProp(json, 'stringify');
      const result = context.callFunction(stringify, json, handle);
      json.dispose(); stringify.dispose();
      if (result.error) { result.error.dispose(); return String(context.dump(handle)); }
      const text = context.getString(result.value); result.value.dispose();
      return text;
    }
    return String(context.dump(handle));
  };

  const write = (stream) => (...args) => {
    if (run === undefined) return;
    const line = args.map(format).join(' ') + '\n';
    const room = maxOutputBytes - run.outputBytes;
    const bytes = Buffer.byteLength(line);
    if (bytes > room) {
      run[stream] += Buffer.from(line).subarray(0, Math.max(0, room)).toString();
      run.outputBytes = maxOutputBytes;
      run.outputOverflow = true;
      run.limit = 'output';
      throw new Error('output limit reached');
    }
    run[stream] += line;
    run.outputBytes += bytes;
  };

  const consoleObject = context.newObject();
  for (const [name, stream] of [['log', 'stdout'], ['info', 'stdout'], ['debug', 'stdout'], ['warn', 'stderr'], ['error', 'stderr']]) {
    const fn = context.newFunction(name, write(stream));
    context.setProp(consoleObject, name, fn);
    fn.dispose();
  }
  context.setProp(context.global, 'console', consoleObject);
  consoleObject.dispose();

  const define = (name, implementation) => {
    const fn = context.newFunction(name, (...handles) => {
      const args = handles.map((handle) => context.dump(handle));
      const value = implementation(...args);
      if (value === undefined) return context.undefined;
      if (typeof value === 'string') return context.newString(value);
      if (typeof value === 'number') return context.newNumber(value);
      if (typeof value === 'boolean') return value ? context.true : context.false;
      const parsed = context.evalCode('(' + JSON.stringify(value) + ')');
      return context.unwrapResult(parsed);
    });
    context.setProp(context.global, name, fn);
    fn.dispose();
  };
  define('readFile', (path) => callHost({ op: 'read', path: String(path) }));
  define('writeFile', (path, content) => callHost({ op: 'write', path: String(path), content: typeof content === 'string' ? content : JSON.stringify(content) }));
  define('listFiles', (path) => callHost({ op: 'list', path: path === undefined ? '.' : String(path) }));

  const describeError = (handle) => {
    const value = context.dump(handle);
    if (value && typeof value === 'object') {
      const name = value.name || 'Error';
      const message = value.message || '';
      return (value.stack && String(value.stack).trim() !== '' ? name + ': ' + message + '\n' + value.stack : name + ': ' + message).trimEnd();
    }
    return 'Uncaught ' + String(value);
  };

  parentPort.on('message', (message) => {
    if (message.type !== 'run') return;
    run = { stdout: '', stderr: '', outputBytes: 0, outputOverflow: false, limit: undefined, deadline: Date.now() + message.timeoutMs };
    let exitCode = 0;
    try {
      const result = context.evalCode(message.code, 'main.js');
      if (result.error) {
        const description = describeError(result.error);
        if (run.limit === undefined && /out of memory/.test(description)) run.limit = 'memory';
        if (run.limit === undefined) run.stderr += description + '\n';
        result.error.dispose();
        exitCode = 1;
      } else {
        let value = result.value;
        const pending = runtime.executePendingJobs(-1);
        if (pending.error) { run.stderr += describeError(pending.error) + '\n'; pending.error.dispose(); exitCode = 1; }
        const state = context.getPromiseState(value);
        if (state.type === 'rejected') { run.stderr += describeError(state.error) + '\n'; state.error.dispose(); exitCode = 1; }
        else if (state.type === 'pending') { run.stderr += 'The program left a promise pending; only work that finishes without host timers completes.\n'; }
        else if (state.value !== value) state.value.dispose();
        value.dispose();
      }
    } catch (error) {
      run.stderr += 'Sandbox error: ' + (error && error.message ? error.message : String(error)) + '\n';
      exitCode = 1;
    }
    const limit = run.limit;
    const fatal = limit === 'memory' || wasmBytes() > hardMemoryBytes;
    parentPort.postMessage({
      type: 'result', id: message.id, stdout: run.stdout, stderr: run.stderr,
      exitCode: limit === undefined ? exitCode : null, limit, outputTruncated: run.outputOverflow,
      fatal, memoryBytes: wasmBytes(),
    });
    run = undefined;
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((error) => {
  parentPort.postMessage({ type: 'failed', error: error && error.stack ? error.stack : String(error) });
});
`;
