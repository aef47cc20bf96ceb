import { describe, expect, it } from 'vitest';
import { type AbortSignalLike, PlainAbortController } from './plain-abort.js';

describe('PlainAbortController', () => {
  it('runs each listener once, on the first abort, with the reason set before they run', () => {
    const controller = new PlainAbortController();
    const seen: unknown[] = [];
    controller.signal.addEventListener('abort', () => seen.push(['first', controller.signal.reason]));
    controller.signal.addEventListener('abort', () => seen.push(['second', controller.signal.aborted]));
    expect(controller.signal.aborted).toBe(false);
    controller.abort('gone');
    controller.abort('again');
    expect(seen).toEqual([
      ['first', 'gone'],
      ['second', true],
    ]);
    expect(controller.signal.reason).toBe('gone');
  });

  it('skips a removed listener, and ignores listeners added after the abort', () => {
    const controller = new PlainAbortController();
    let removedRan = false;
    let lateRan = false;
    const removed = () => {
      removedRan = true;
    };
    controller.signal.addEventListener('abort', removed);
    controller.signal.removeEventListener('abort', removed);
    controller.abort();
    controller.signal.addEventListener('abort', () => {
      lateRan = true;
    });
    controller.abort();
    expect(removedRan).toBe(false);
    expect(lateRan).toBe(false);
  });

  it('aborts with an AbortError by default, as AbortController does', () => {
    const controller = new PlainAbortController();
    controller.abort();
    expect(controller.signal.reason).toBeInstanceOf(DOMException);
    expect((controller.signal.reason as DOMException).name).toBe('AbortError');
  });

  it('a listener that throws does not stop the others, and its error surfaces as uncaught', async () => {
    const controller = new PlainAbortController();
    let laterRan = false;
    controller.signal.addEventListener('abort', () => {
      throw new Error('listener failed');
    });
    controller.signal.addEventListener('abort', () => {
      laterRan = true;
    });
    // The test runner's own handlers would report the error as a failure: set them aside.
    const runnerHandlers = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    let surfaced: unknown;
    process.once('uncaughtException', (error) => {
      surfaced = error;
    });
    try {
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const handler of runnerHandlers) process.on('uncaughtException', handler);
    }
    expect(laterRan).toBe(true);
    expect((surfaced as Error).message).toBe('listener failed');
  });

  it('an AbortSignal is an AbortSignalLike, so code taking one takes both', () => {
    const native: AbortSignalLike = new AbortController().signal;
    const plain: AbortSignalLike = new PlainAbortController().signal;
    expect(native.aborted).toBe(plain.aborted);
  });
});
