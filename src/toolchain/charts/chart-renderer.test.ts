/**
 * The renderer's process: kept warm between renders, ended when idle, started again on demand.
 * Counted through `/proc` (Linux), as the children of this process.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ChartRenderer, type RenderRequest } from './chart-renderer.js';

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
});
