/**
 * A Hataraku instance: configuration, journal, prices and model resolution, created from
 * explicit options (no globals). The CLI makes one per command; a program embedding Hataraku
 * makes one and runs agents through it.
 *
 * ```ts
 * const hataraku = createHataraku({ cwd: process.cwd(), env: process.env });
 * const result = await hataraku.run(myAgent, 'Summarise notes.txt');
 * hataraku.close();
 * ```
 */
import type { Agent } from './agent/agent.js';
import { type RunHandle, type RunOptions, resume, run } from './agent/run.js';
import { type Environment, type HatarakuConfig, loadConfig } from './config/load-config.js';
import { createGenaiPricesSource } from './cost/genai-prices-source.js';
import { createOverridePriceSource } from './cost/override-source.js';
import { chainPriceSources, type PriceSource } from './cost/price-source.js';
import type { Journal } from './journal/journal.js';
import { openSqliteJournal } from './journal/sqlite-journal.js';
import { createModel } from './models/create-model.js';
import type { Model } from './models/spec.js';

export interface HatarakuOptions {
  /** Directory config, the journal and scripted model paths are relative to (default `process.cwd()`). */
  cwd?: string;
  /** Environment variables (default `process.env`). */
  env?: Environment;
  /** Config file to read instead of `hataraku.config.json`. */
  configPath?: string;
  /** An already loaded configuration; skips reading files and environment. */
  config?: HatarakuConfig;
  /** A journal to use instead of the configured SQLite file. */
  journal?: Journal;
  /** Fetch implementation for network providers. */
  fetch?: typeof globalThis.fetch;
}

export interface Hataraku {
  readonly config: HatarakuConfig;
  /** The journal, opened on first use. */
  readonly journal: Journal;
  readonly prices: PriceSource;
  /** The model a name refers to, e.g. `openai:gpt-4o-mini`. */
  model(name: string): Model;
  run(agent: Agent, input: string, options?: RunOptions): RunHandle;
  resume(agent: Agent, runId: string, options?: RunOptions): RunHandle;
  close(): void;
}

/** The scripted provider makes no inference, so its calls cost nothing. */
const scriptedPrices: PriceSource = {
  lookup: (provider) =>
    provider === 'scripted'
      ? { inputPerMillion: 0, outputPerMillion: 0, source: 'scripted model (no inference)' }
      : undefined,
};

export function createHataraku(options: HatarakuOptions = {}): Hataraku {
  const cwd = options.cwd ?? process.cwd();
  const config =
    options.config ??
    loadConfig({
      cwd,
      env: options.env ?? process.env,
      ...(options.configPath ? { configPath: options.configPath } : {}),
    });
  const prices = chainPriceSources(createOverridePriceSource(config.prices), scriptedPrices, createGenaiPricesSource());
  const models = new Map<string, Model>();
  let journal = options.journal;
  const ownsJournal = options.journal === undefined;

  const model = (name: string): Model => {
    let created = models.get(name);
    if (!created) {
      created = createModel(name, { config, cwd, ...(options.fetch ? { fetch: options.fetch } : {}) });
      models.set(name, created);
    }
    return created;
  };
  const openJournal = (): Journal => {
    journal ??= openSqliteJournal({ path: config.journal.path });
    return journal;
  };
  const runOptions = (given: RunOptions | undefined): RunOptions => ({
    workspace: config.workspace,
    prices,
    resolveModel: model,
    ...given,
    journal: given?.journal ?? openJournal(),
  });

  return {
    config,
    get journal() {
      return openJournal();
    },
    prices,
    model,
    run: (agent, input, given) => run(agent, input, runOptions(given)),
    resume: (agent, runId, given) => resume(agent, runId, runOptions(given)),
    close() {
      if (ownsJournal) journal?.close();
      journal = undefined;
    },
  };
}
