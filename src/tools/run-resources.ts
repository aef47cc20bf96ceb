/**
 * The per-run resource store behind `ToolContext.runResources`: created when a run starts in a
 * process, disposed when it ends there, so a sandbox or connection lives as long as the run and
 * no longer.
 */
import type { RunResources } from './tool.js';

export interface DisposableRunResources extends RunResources {
  /** Dispose every resource, newest first. Errors are collected, not thrown one by one. */
  disposeAll(): Promise<unknown[]>;
}

export function createRunResources(): DisposableRunResources {
  const values = new Map<string, Promise<unknown>>();
  const disposers: Array<() => void | Promise<void>> = [];
  return {
    get<Value>(key: string, create: () => Value | Promise<Value>, dispose?: (value: Value) => void | Promise<void>) {
      let existing = values.get(key) as Promise<Value> | undefined;
      if (!existing) {
        existing = Promise.resolve().then(create);
        values.set(key, existing);
        if (dispose) {
          const created = existing;
          disposers.push(async () => dispose(await created));
        }
        existing.catch(() => values.delete(key));
      }
      return existing;
    },
    async disposeAll() {
      const errors: unknown[] = [];
      for (const dispose of disposers.reverse()) {
        try {
          await dispose();
        } catch (error) {
          errors.push(error);
        }
      }
      disposers.length = 0;
      values.clear();
      return errors;
    },
  };
}
