/**
 * The local provider's grammar-constrained tool calls over the BFCL corpus: for every distinct
 * function of every answered category (up to 400 per category), a call required of a tiny random-weight GGUF model must
 * name the function and validate against its schema (mapped to JSON Schema as
 * `bfcl-schema.ts` does). The model knows nothing; the grammar alone makes the calls valid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { collectResponse } from '../src/models/collect-response.js';
import { terminatingPreferences } from '../src/models/local/__fixtures__/tiny-models.js';
import { unloadIdleModels } from '../src/models/local/loaded-models.js';
import { createLocalModel } from '../src/models/local/local-model.js';
import { writeTinyLlama } from '../src/models/local/tiny-model/tiny-llama.js';
import { answeredCategories, categoryLanguage, readEntries, requireBfclDirectory } from './bfcl-corpus.js';
import { bfclToJsonSchema } from './bfcl-schema.js';

requireBfclDirectory();

const categories = answeredCategories;
/** Distinct functions per category, in file order (a cap, so the suite stays within minutes on 2 cores). */
const functionsPerCategory = 400;

const directory = mkdtempSync(join(tmpdir(), 'hataraku-local-bfcl-'));
const modelPath = join(directory, 'tiny.gguf');
writeTinyLlama(modelPath, { preferences: terminatingPreferences, seed: 7 });
const model = createLocalModel({
  modelPath,
  modelId: 'tiny',
  threads: 1,
  contextSize: 8192,
  gpu: 'cpu',
  gpuLayers: 0,
  idleUnloadMs: 60_000,
});
const ajv = new Ajv({ strict: false });

afterAll(async () => {
  await unloadIdleModels();
  rmSync(directory, { recursive: true, force: true });
});

describe('local model: grammar-constrained calls over BFCL schemas', () => {
  for (const category of categories) {
    it(`${category}: every call validates against its function's schema`, { timeout: 600_000 }, async () => {
      const seen = new Set<string>();
      const failures: string[] = [];
      let calls = 0;
      for (const entry of readEntries(category)) {
        for (const fn of entry.function) {
          if (seen.has(fn.name) || seen.size >= functionsPerCategory) continue;
          seen.add(fn.name);
          const schema = bfclToJsonSchema(fn.parameters, categoryLanguage(category));
          const question = entry.question[0]?.find((turn) => turn.role === 'user')?.content ?? fn.description;
          const response = await collectResponse(model, {
            messages: [{ role: 'user', content: question }],
            tools: [{ name: fn.name, description: fn.description, inputSchema: schema }],
            toolChoice: 'required',
            temperature: 1,
            // Room enough that no sampled call is cut by the limit (a cut call is rightly not a call).
            maxOutputTokens: 2000,
          });
          calls++;
          const call = response.toolCalls[0];
          const valid = call?.name === fn.name && ajv.validate(schema, JSON.parse(call.arguments));
          if (!valid) failures.push(`${fn.name}: ${call?.arguments ?? response.text} ${ajv.errorsText()}`);
        }
      }
      expect(calls).toBeGreaterThan(0);
      expect(failures).toEqual([]);
    });
  }
});
