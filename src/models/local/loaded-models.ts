/**
 * The process-wide pool of loaded local models. A GGUF file is loaded once per process however
 * many runs use it; calls to it wait their turn in a first-in, first-out queue (one context
 * sequence, so one generation at a time: on a CPU, two at once would only share the same cores),
 * and the model is unloaded after `idleUnloadMs` with nothing queued. This is the one place
 * Hataraku keeps process-wide state for local models: the weights are too big to load per run.
 */
import type { ChatWrapper, Llama, LlamaChat, LlamaContext, LlamaGrammar, LlamaModel } from 'node-llama-cpp';

/** node-llama-cpp, imported on first use so that commands without a local model never load it. */
const nodeLlamaCpp = () => import('node-llama-cpp');

/** How to load a model; the pool keeps one loaded model per distinct settings. */
export interface LocalModelSettings {
  /** Absolute path of the GGUF file. */
  modelPath: string;
  /** CPU threads for generation. */
  threads: number;
  /** Context window in tokens. */
  contextSize: number;
  /** `auto`: use a GPU when node-llama-cpp finds one (CUDA, Vulkan, Metal); `cpu`: never. */
  gpu: 'auto' | 'cpu';
  /** Layers offloaded to the GPU: a number, `max`, or `auto` (as many as fit). Ignored on CPU. */
  gpuLayers: number | 'auto' | 'max';
  /** Unload after this long with no call queued or running. */
  idleUnloadMs: number;
}

/** A loaded model, its context and the chat built on it. Use only inside `withLoadedModel`. */
export interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  chat: LlamaChat;
  chatWrapper: ChatWrapper;
  /** `gpu` when layers were offloaded to a GPU, else `cpu` (what the machine-hour price is for). */
  device: 'cpu' | 'gpu';
  /** Grammars built for this model, by a key the caller chooses (building one costs milliseconds). */
  grammars: Map<string, Promise<LlamaGrammar>>;
}

interface PoolEntry {
  settings: LocalModelSettings;
  loading: Promise<LoadedModel> | undefined;
  /** Settles when the last queued call has finished. */
  tail: Promise<void>;
  pending: number;
  idleTimer: NodeJS.Timeout | undefined;
}

const entries = new Map<string, PoolEntry>();
const llamas = new Map<string, Promise<Llama>>();

/**
 * Run `work` with the model loaded, after the calls queued before it. Rejects with the signal's
 * reason when `signal` aborts while waiting; the queue order is kept either way.
 */
export async function withLoadedModel<T>(
  settings: LocalModelSettings,
  signal: AbortSignal | undefined,
  work: (loaded: LoadedModel) => Promise<T>,
): Promise<T> {
  const key = JSON.stringify(settings);
  let entry = entries.get(key);
  if (!entry) {
    entry = { settings, loading: undefined, tail: Promise.resolve(), pending: 0, idleTimer: undefined };
    entries.set(key, entry);
  }
  const current = entry;
  if (current.idleTimer) clearTimeout(current.idleTimer);
  current.idleTimer = undefined;
  current.pending++;
  const previous = current.tail;
  let release: () => void = () => {};
  current.tail = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = false;
  try {
    await untilSettledOrAborted(previous, signal);
    started = true;
    current.loading ??= load(settings).catch((error: unknown) => {
      current.loading = undefined;
      throw error;
    });
    const loaded = await current.loading;
    return await work(loaded);
  } finally {
    // A call aborted while queued still hands over only after the one before it is done.
    if (started) release();
    else void previous.then(release);
    current.pending--;
    if (current.pending === 0) scheduleUnload(key, current);
  }
}

/** How many calls are queued or running on the model loaded with `settings` (for tests). */
export function pendingCalls(settings: LocalModelSettings): number {
  return entries.get(JSON.stringify(settings))?.pending ?? 0;
}

/** Whether the model for `settings` is loaded now. */
export function isLoaded(settings: LocalModelSettings): boolean {
  return entries.get(JSON.stringify(settings))?.loading !== undefined;
}

/** Unload every idle model now (a CLI about to exit, a test's cleanup). */
export async function unloadIdleModels(): Promise<void> {
  await Promise.all(
    [...entries.entries()].filter(([, entry]) => entry.pending === 0).map(([key, entry]) => unload(key, entry)),
  );
}

function scheduleUnload(key: string, entry: PoolEntry): void {
  entry.idleTimer = setTimeout(() => void unload(key, entry), entry.settings.idleUnloadMs);
  // An idle model must not keep the process alive.
  entry.idleTimer.unref();
}

async function unload(key: string, entry: PoolEntry): Promise<void> {
  if (entry.pending > 0) return;
  if (entry.idleTimer) clearTimeout(entry.idleTimer);
  entry.idleTimer = undefined;
  const loading = entry.loading;
  entry.loading = undefined;
  entries.delete(key);
  if (!loading) return;
  const loaded = await loading.catch(() => undefined);
  if (!loaded) return;
  loaded.chat.dispose();
  await loaded.context.dispose();
  await loaded.model.dispose();
}

async function load(settings: LocalModelSettings): Promise<LoadedModel> {
  const llama = await llamaFor(settings.gpu);
  const onGpu = llama.gpu !== false;
  const model = await llama.loadModel({
    modelPath: settings.modelPath,
    gpuLayers: onGpu ? settings.gpuLayers : 0,
  });
  const context = await model.createContext({ contextSize: settings.contextSize, threads: settings.threads });
  const { LlamaChat, resolveChatWrapper } = await nodeLlamaCpp();
  const chatWrapper = resolveChatWrapper(model);
  const chat = new LlamaChat({ contextSequence: context.getSequence(), chatWrapper });
  return {
    llama,
    model,
    context,
    chat,
    chatWrapper,
    device: onGpu && model.gpuLayers > 0 ? 'gpu' : 'cpu',
    grammars: new Map(),
  };
}

function llamaFor(gpu: 'auto' | 'cpu'): Promise<Llama> {
  let llama = llamas.get(gpu);
  if (!llama) {
    // Prebuilt binaries only: nothing is compiled or downloaded at run time.
    llama = nodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) =>
      getLlama({
        gpu: gpu === 'cpu' ? false : 'auto',
        build: 'never',
        progressLogs: false,
        logLevel: LlamaLogLevel.error,
      }),
    );
    llama.catch(() => llamas.delete(gpu));
    llamas.set(gpu, llama);
  }
  return llama;
}

function untilSettledOrAborted(previous: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return previous;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void previous.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
