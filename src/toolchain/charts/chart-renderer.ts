/**
 * The host side of chart rendering: a child Node process (see `chart-render-worker-source.ts`
 * and `bounded-process.ts`) kept warm for the calls of one run, one render at a time. A render
 * that passes its time limit, or that the run stops, has its process killed; the next render
 * starts a fresh one. The process has a heap cap and a cap on its whole resident memory (heap
 * cap + 256 MB): Vega's grids (`kde2d`, `contour`, `heatmap`) are typed arrays, which a worker
 * thread's heap cap does not count. A process past a cap is killed, and the host goes on.
 */
import { createRequire } from 'node:module';
import { BoundedProcess, residentHeadroomMb } from '../documents/bounded-process.js';
import { chartRenderWorkerSource } from './chart-render-worker-source.js';
import type { ChartSpec } from './chart-spec.js';
import { ChartToolError, type ChartToolErrorReason } from './chart-tool-error.js';

/** Fonts resvg uses to draw the text of a PNG (the SVG names `sans-serif`, as Vega does). */
export interface ChartFontOptions {
  /** Load the fonts installed on the system. */
  loadSystemFonts: boolean;
  /** Font files to load besides (or instead of) the system's. */
  fontFiles?: string[];
  /** Family used where a font the SVG names is missing. */
  defaultFontFamily?: string;
}

export interface RenderRequest {
  /** A compiled Vega spec whose data is all inline. */
  spec: ChartSpec;
  maxDataRows: number;
  /** Also draw a PNG. */
  png: boolean;
  /** PNG pixels per SVG unit. */
  scale: number;
  maxPixels: number;
  font: ChartFontOptions;
}

export interface DataSourceSummary {
  name: string;
  rows: number;
  /** The first columns (at most 50, names cut at 80 characters). */
  columns: string[];
  /** How many columns there are. */
  columnCount: number;
}

export interface RenderResult {
  svg: string;
  /** Size of the SVG, in CSS pixels. */
  width: number;
  height: number;
  /** Vega's warnings while running the spec. */
  warnings: string[];
  sources: DataSourceSummary[];
  png: Uint8Array | undefined;
  pngWidth: number;
  pngHeight: number;
}

export interface ChartRendererOptions {
  /** A render taking longer is stopped and its worker terminated. */
  timeoutMs: number;
  /** Heap limit of the rendering process, in megabytes; its resident memory may be 256 MB more. */
  maxMemoryMb: number;
  /** A process idle this long is ended (a later render starts a new one). Default 60 000 ms. */
  idleMs?: number;
  /**
   * The processes this renderer may start, shared with other renderers (one per run): at most so
   * many exist at once across them. Without it, this renderer's own process is the only limit.
   */
  processSlots?: ChartProcessSlots;
}

/**
 * Room for a bounded number of chart processes among several renderers. A renderer takes a slot
 * before it starts a process and gives it back when the process ends. When every slot is taken,
 * an idle renderer's process (one with no render queued) is ended to make room; when none is
 * idle, the render waits for a slot, in order, and its time limit starts once it has one.
 */
export interface ChartProcessSlots {
  /** Take a slot for `holder`'s process; resolves with the function that gives it back (once). */
  take(holder: ChartProcessHolder, signal: AbortSignal): Promise<() => void>;
  /** A holder just became idle: a render waiting for a slot may end its process now. */
  holderIdle(): void;
  /** Processes alive now. */
  readonly inUse: number;
}

/** A renderer holding a slot, as the slots see it. */
export interface ChartProcessHolder {
  /** Whether its process has no render queued or running. */
  idle(): boolean;
  /** End its process now (which gives its slot back). */
  evict(): void;
}

export function createChartProcessSlots(count: number): ChartProcessSlots {
  const holders = new Set<ChartProcessHolder>();
  const waiting: Array<() => void> = [];
  const give = (holder: ChartProcessHolder) => {
    let given = false;
    return () => {
      if (given) return;
      given = true;
      holders.delete(holder);
      waiting.shift()?.();
    };
  };
  const take = async (holder: ChartProcessHolder, signal: AbortSignal): Promise<() => void> => {
    while (holders.size >= count) {
      const idle = [...holders].find((other) => other !== holder && other.idle());
      if (idle !== undefined) {
        // Its release runs in `evict` and wakes the first waiter, which may be another render:
        // look again rather than assume the slot is this one's.
        idle.evict();
        continue;
      }
      if (signal.aborted) throw stopped();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = waiting.indexOf(wake);
          if (index >= 0) waiting.splice(index, 1);
          reject(stopped());
        };
        const wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        waiting.push(wake);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    holders.add(holder);
    return give(holder);
  };
  return {
    take,
    holderIdle() {
      if (waiting.length > 0) waiting.shift()?.();
    },
    get inUse() {
      return holders.size;
    },
  };
}

/** A Vega-Lite spec compiled in the worker. */
export interface CompileRequest {
  spec: ChartSpec;
  /** Most characters of the compiled Vega spec's JSON. */
  maxSpecBytes: number;
}

export interface CompileResult {
  vegaSpec: ChartSpec;
  /** Vega-Lite's warnings: a dropped channel, an unknown aggregate. */
  warnings: string[];
}

type WorkerReply =
  | { ready: true }
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; reason: ChartToolErrorReason; message: string };

const require = createRequire(import.meta.url);

export class ChartRenderer {
  readonly #options: ChartRendererOptions;
  #worker: BoundedProcess | undefined;
  #nextId = 1;
  /** Renders wait for the one before: the worker draws one chart at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Requests queued or running. */
  #pending = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Gives back the slot of the current process, when the renderer has shared slots. */
  #releaseSlot: (() => void) | undefined;
  readonly #holder: ChartProcessHolder = {
    idle: () => this.#pending === 0,
    evict: () => {
      const worker = this.#worker;
      if (worker !== undefined) this.#discard(worker);
    },
  };

  constructor(options: ChartRendererOptions) {
    this.#options = options;
  }

  /** Render a chart; the time limit counts from when this render starts, not from when it was queued. */
  render(request: RenderRequest, signal: AbortSignal): Promise<RenderResult> {
    return this.#enqueue<RenderResult>({ kind: 'render', ...request }, signal, 'Rendering');
  }

  /**
   * Compile a Vega-Lite spec to Vega in the worker, within the same time limit and heap cap as a
   * render: a small spec can ask for thousands of views.
   */
  compile(request: CompileRequest, signal: AbortSignal): Promise<CompileResult> {
    return this.#enqueue<CompileResult>({ kind: 'compile', ...request }, signal, 'Compiling the spec');
  }

  #enqueue<Result>(message: Record<string, unknown>, signal: AbortSignal, activity: string): Promise<Result> {
    this.#pending++;
    clearTimeout(this.#idleTimer);
    const done = this.#queue.then(() => this.#runNow<Result>(message, signal, activity));
    this.#queue = done
      .catch(() => undefined)
      .finally(() => {
        this.#pending--;
        if (this.#pending === 0) {
          this.#expireWhenIdle();
          this.#options.processSlots?.holderIdle();
        }
      });
    return done;
  }

  /** End the process after `idleMs` without a request: a run that drew once holds no process for hours. */
  #expireWhenIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      const worker = this.#worker;
      if (this.#pending === 0 && worker !== undefined) this.#discard(worker);
    }, this.#options.idleMs ?? 60_000);
    this.#idleTimer.unref();
  }

  async #runNow<Result>(message: Record<string, unknown>, signal: AbortSignal, activity: string): Promise<Result> {
    if (signal.aborted) throw stopped();
    const worker = await this.#ensureWorker(signal);
    const id = this.#nextId++;
    return new Promise<Result>((resolve, reject) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        worker.off('message', onMessage);
        worker.off('out-of-memory', onOutOfMemory);
        worker.off('exit', onExit);
        outcome();
      };
      const onMessage = (reply: WorkerReply) => {
        if ('ready' in reply || reply.id !== id) return;
        if (reply.ok) finish(() => resolve(reply.result as Result));
        else finish(() => reject(new ChartToolError(reply.reason, reply.message)));
      };
      const onOutOfMemory = () => {
        this.#discard(worker);
        finish(() =>
          reject(
            new ChartToolError(
              'interrupted',
              `${activity} ran out of memory (${this.#options.maxMemoryMb} MB) and was stopped. Use fewer data rows (aggregate first), simpler transforms, or fewer repeated or concatenated views.`,
            ),
          ),
        );
      };
      const onExit = () => {
        this.#discard(worker);
        finish(() => reject(new ChartToolError('render-failed', 'The renderer stopped unexpectedly; try again.')));
      };
      const onAbort = () => {
        this.#discard(worker);
        finish(() => reject(stopped()));
      };
      const timer = setTimeout(() => {
        this.#discard(worker);
        finish(() =>
          reject(
            new ChartToolError(
              'interrupted',
              `${activity} took longer than ${this.#options.timeoutMs / 1000} s and was stopped. Make the chart cheaper: fewer data rows (aggregate first with data.query), fewer or lighter transforms (sequence, density, loess), smaller facets, fewer repeated or concatenated views.`,
            ),
          ),
        );
      }, this.#options.timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      worker.on('message', onMessage);
      worker.once('out-of-memory', onOutOfMemory);
      worker.once('exit', onExit);
      worker.postMessage({ id, ...message });
    });
  }

  async #ensureWorker(signal: AbortSignal): Promise<BoundedProcess> {
    if (this.#worker !== undefined) return this.#worker;
    const slots = this.#options.processSlots;
    if (slots !== undefined) this.#releaseSlot = await slots.take(this.#holder, signal);
    let worker: BoundedProcess;
    try {
      worker = this.#startProcess();
    } catch (error) {
      this.#giveSlotBack();
      throw error;
    }
    // A process that ends on its own (idle or not) is forgotten, and its slot given back.
    worker.once('exit', () => this.#discard(worker));
    // An idle warm process must not keep the host alive.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #startProcess(): BoundedProcess {
    return new BoundedProcess(
      chartRenderWorkerSource,
      {
        vegaPath: require.resolve('vega'),
        vegaLitePath: require.resolve('vega-lite'),
        interpreterPath: require.resolve('vega-interpreter'),
        resvgPath: require.resolve('@resvg/resvg-js'),
      },
      {
        heapMb: this.#options.maxMemoryMb,
        residentMb: this.#options.maxMemoryMb + residentHeadroomMb,
        // d3-dsv, which Vega parses CSV with, builds each row's object with new Function over
        // the (JSON-quoted) column names; spec expressions never become code (vega-interpreter).
        codeFromStrings: true,
      },
    );
  }

  #discard(worker: BoundedProcess): void {
    worker.terminate();
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#giveSlotBack();
  }

  #giveSlotBack(): void {
    const release = this.#releaseSlot;
    this.#releaseSlot = undefined;
    release?.();
  }

  /** Terminate the worker; a later render starts a new one. */
  async dispose(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker !== undefined) worker.terminate();
    this.#giveSlotBack();
  }
}

function stopped(): ChartToolError {
  return new ChartToolError('interrupted', 'Rendering was stopped because the run was stopped.');
}
