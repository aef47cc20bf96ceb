/**
 * The tiny GGUF models the local provider's tests run on, written once per test file into a
 * temporary folder. `terminating` favours JSON punctuation and end-of-turn so samples stay short
 * on two cores; `plain` never ends a turn by itself (its end tokens are pushed far down), so its
 * text runs on to the output limit whatever the sampler draws.
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

/** Random weights alone give the end tokens a few percent a draw: over 20 tokens a turn often ended early. */
export const plainPreferences = { '<|im_end|>': -40, '</s>': -40, '<|im_start|>': -40 };

export function writeTinyModels(): TinyModels {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-local-'));
  const terminating = join(directory, 'terminating.gguf');
  const plain = join(directory, 'plain.gguf');
  writeTinyLlama(terminating, { preferences: terminatingPreferences, seed: 7 });
  writeTinyLlama(plain, { seed: 11, preferences: plainPreferences });
  return { directory, terminating, plain, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

/** Settings for tests: one thread (the machine is shared), CPU only, a quick idle unload. */
export function testSettings(modelPath: string, overrides: Partial<LocalModelSettings> = {}): LocalModelSettings {
  return { modelPath, threads: 1, contextSize: 4096, gpu: 'cpu', gpuLayers: 0, idleUnloadMs: 60_000, ...overrides };
}
