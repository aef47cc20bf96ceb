/**
 * The tiny GGUF models the local provider's tests run on, written once per test file into a
 * temporary folder. `terminating` favours JSON punctuation and end-of-turn so samples stay short
 * on two cores; `plain` has no preferences, so its text runs on to the output limit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalModelSettings } from '../loaded-models.js';
import { writeTinyLlama } from '../tiny-model/tiny-llama.js';

export interface TinyModels {
  directory: string;
  terminating: string;
  plain: string;
  remove(): void;
}

export const terminatingPreferences = { '"': 5, '}': 7, ']': 7, ',': 1, '1': 2, '<|im_end|>': 5 };

export function writeTinyModels(): TinyModels {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-local-'));
  const terminating = join(directory, 'terminating.gguf');
  const plain = join(directory, 'plain.gguf');
  writeTinyLlama(terminating, { preferences: terminatingPreferences, seed: 7 });
  writeTinyLlama(plain, { seed: 11 });
  return { directory, terminating, plain, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

/** Settings for tests: one thread (the machine is shared), CPU only, a quick idle unload. */
export function testSettings(modelPath: string, overrides: Partial<LocalModelSettings> = {}): LocalModelSettings {
  return { modelPath, threads: 1, contextSize: 4096, gpu: 'cpu', gpuLayers: 0, idleUnloadMs: 60_000, ...overrides };
}
