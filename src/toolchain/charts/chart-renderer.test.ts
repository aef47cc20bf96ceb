/**
 * The renderer's process: kept warm between renders, ended when idle, started again on demand.
 * Counted through `/proc` (Linux), as the children of this process.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChartRenderer, createChartProcessSlots, type RenderRequest } from './chart-renderer.js';

/** Node processes this process started with `-e` (the bounded processes). */
function childProcesses(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'latin1');
      const parent = /PPid:\s*(\d+)/.exec(status)?.[1];
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0');
      if (Number(parent) === process.pid && commandLine.includes('-e')) count++;
    } catch {
      // The process ended meanwhile.
    }
  }
  return count;
}

const request: RenderRequest = {
  spec: {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 20,
    height: 20,
    marks: [{ type: 'rect', encode: { enter: { width: { value: 10 }, height: { value: 10 } } } }],
  },
  maxDataRows: 10,
  png: false,
  scale: 1,
  maxPixels: 1_000_000,
  font: { loadSystemFonts: false },
};

describe.skipIf(!existsSync('/proc/self/status'))('ChartRenderer', () => {
  it('ends its process when idle and starts a new one for the next render', async () => {
    const renderer = new ChartRenderer({ timeoutMs: 20_000, maxMemoryMb: 256, idleMs: 200 });
    const signal = new AbortController().signal;
    try {
      const before = childProcesses();
      expect((await renderer.render(request, signal)).svg).toContain('<svg');
      expect(childProcesses()).toBe(before + 1);
      // Wait for the idle end, up to 10 s on a loaded machine.
      for (let waited = 0; waited < 10_000 && childProcesses() > before; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(childProcesses()).toBe(before);
      expect((await renderer.render(request, signal)).svg).toContain('<svg');
    } finally {
      await renderer.dispose();
    }
  });

  it('shares a bound on processes among renderers: an idle one is ended to make room, a busy one is waited for', async () => {
    const slots = createChartProcessSlots(1);
    const options = { timeoutMs: 20_000, maxMemoryMb: 256, processSlots: slots };
    const first = new ChartRenderer(options);
    const second = new ChartRenderer(options);
    const signal = new AbortController().signal;
    // The slots in use, sampled: never more than one. (An ended process may linger in /proc for
    // a moment after its slot is free, so the processes themselves are counted once settled.)
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, slots.inUse);
    }, 5);
    try {
      const before = childProcesses();
      // The first keeps its process warm after drawing; the second ends it to start its own.
      expect((await first.render(request, signal)).svg).toContain('<svg');
      expect(slots.inUse).toBe(1);
      expect((await second.render(request, signal)).svg).toContain('<svg');
      expect(slots.inUse).toBe(1);
      // Both at once: one draws while the other waits for its slot, then takes it.
      const both = await Promise.all([first.render(request, signal), second.render(request, signal)]);
      expect(both.map((result) => result.svg.includes('<svg'))).toEqual([true, true]);
      expect(slots.inUse).toBe(1);
      expect(Math.max(most, slots.inUse)).toBe(1);
      for (let waited = 0; waited < 10_000 && childProcesses() > before + 1; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(childProcesses()).toBe(before + 1);
    } finally {
      clearInterval(watch);
      await first.dispose();
      await second.dispose();
    }
    expect(slots.inUse).toBe(0);
  });

  it('stops a render waiting for a slot when its run is stopped', async () => {
    const slots = createChartProcessSlots(1);
    const options = { timeoutMs: 20_000, maxMemoryMb: 256, processSlots: slots };
    const busy = new ChartRenderer(options);
    const waiting = new ChartRenderer(options);
    const stop = new AbortController();
    try {
      // A render in flight holds the only slot; the other render waits, then its run stops.
      const drawing = busy.render(request, new AbortController().signal);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const waited = waiting.render(request, stop.signal);
      stop.abort();
      await expect(waited).rejects.toMatchObject({ message: expect.stringMatching(/stopped/) });
      expect((await drawing).svg).toContain('<svg');
      expect(slots.inUse).toBe(1);
    } finally {
      await busy.dispose();
      await waiting.dispose();
    }
    expect(slots.inUse).toBe(0);
  });
});
