/**
 * A Hataraku instance: configuration, journal, prices and model resolution, created from
 * explicit options (no globals). The CLI makes one per command; a program embedding Hataraku
 * makes one and runs agents through it.
 *
 * ```ts
 * const hataraku = createHataraku({ cwd: process.cwd(), env: process.env });
 * const result = await hataraku.run(myAgent, 'Summarise notes.txt');
 * await hataraku.close();
 * ```
 */

import type { Agent } from './agent/agent.js';
import type { Attachment } from './agent/attachments.js';
import { type ConcurrencyGate, createConcurrencyGate } from './agent/concurrency-gate.js';
import { type RunHandle, type RunOptions, type RunResult, resume, run, submit } from './agent/run.js';
import { cacheHitPriceSource } from './cache/cache-hit-price.js';
import type { ModelCallCache } from './cache/model-call-cache.js';
import { openPostgresModelCallCache } from './cache/postgres-model-call-cache.js';
import { openSqliteModelCallCache } from './cache/sqlite-model-call-cache.js';
import { type Environment, type HatarakuConfig, loadConfig } from './config/load-config.js';
import { type ContextStrategy, composeStrategies } from './context/context-strategy.js';
import { maskUsedToolResults } from './context/mask-tool-results.js';
import { offloadLargeToolResults } from './context/offload-tool-results.js';
import { createGenaiPricesSource } from './cost/genai-prices-source.js';
import { createOverridePriceSource } from './cost/override-source.js';
import { chainPriceSources, type PriceSource } from './cost/price-source.js';
import { createSelfHostedPriceSource } from './cost/self-hosted-source.js';
import { decisionTarget } from './decomposition/run-tree.js';
import { type DecisionResult, type Engine, openRunStatuses, type RunRecord } from './engine/engine.js';
import { type FaultPoints, noFaultPoints } from './engine/fault-points.js';
import { openPostgresEngine } from './engine/postgres/postgres-engine.js';
import { openSqliteEngine } from './engine/sqlite/sqlite-engine.js';
import { createModel } from './model-registry/model-registry.js';
import { createThroughputStore, throughputPath } from './models/local/throughput-store.js';
import type { Model } from './models/spec.js';
import { createCircuitBreakerRegistry } from './routing/circuit-breaker.js';
import type { TelemetryOptions } from './telemetry/run-telemetry.js';

export interface HatarakuOptions {
  /** Directory config, the journal and scripted model paths are relative to (default `process.cwd()`). */
  cwd?: string;
  /** Environment variables (default `process.env`). */
  env?: Environment;
  /** Config file to read instead of `hataraku.config.json`. */
  configPath?: string;
  /** An already loaded configuration; skips reading files and environment. */
  config?: HatarakuConfig;
  /** An engine to use instead of the SQLite engine on the configured file. */
  engine?: Engine;
  /** Run leases: how long a run stays owned by this process without a heartbeat (default 30 s). */
  leaseMs?: number;
  /** Most runs executing at once in this process (default 16); more wait for a slot. */
  maxConcurrentRuns?: number;
  /** Fetch implementation for network providers. */
  fetch?: typeof globalThis.fetch;
  /**
   * Told once, in one line, when a PostgreSQL journal cannot be reached on opening and Hataraku
   * goes on trying (for up to 30 s); the CLI prints it.
   */
  onJournalUnreachable?: (message: string) => void;
  /**
   * Named crash points, armed by the fault-injection suite's fixtures (`src/engine/faults`) to
   * kill the process at a step boundary. For tests only; nothing arms them from the environment.
   */
  faults?: FaultPoints;
  /**
   * OpenTelemetry traces and metrics for every run (GenAI semantic conventions). Off unless
   * given; `{}` reports to the globally registered tracer and meter providers.
   */
  telemetry?: TelemetryOptions;
}

export interface Hataraku {
  readonly config: HatarakuConfig;
  /** The engine (the journal), opened on first use. */
  readonly engine: Engine;
  readonly prices: PriceSource;
  /** The model a name refers to, e.g. `openai:gpt-4o-mini`. */
  model(name: string): Model;
  run(agent: Agent, input: string, options?: RunOptions): RunHandle;
  resume(agent: Agent, runId: string, options?: RunOptions): RunHandle;
  /** Queue a run for a worker on any machine sharing the journal, without executing it here. */
  submit(
    agent: Agent,
    input: string,
    options?: { runId?: string; workspace?: string; tenant?: string; attachments?: Attachment[] },
  ): Promise<RunRecord>;
  /** Approve a tool call a run waits for (the run's only pending one, or the one at `stepIndex`). */
  approve(runId: string, decision?: { stepIndex?: number; actor?: string; note?: string }): Promise<DecisionResult>;
  /** Deny a tool call a run waits for; the model is told, with the reason. */
  deny(runId: string, decision: { reason: string; stepIndex?: number; actor?: string }): Promise<DecisionResult>;
  /**
   * Resume the runs that can be taken over now: those a dead process left open (its lease has
   * expired) and waiting runs whose approvals are decided. Each is claimed first, so two
   * processes recovering at once never run the same run; at most `maxConcurrentRuns` run at once.
   */
  recover(options: RecoverOptions): Promise<RecoveryReport>;
  close(): Promise<void>;
}

export interface RecoverOptions {
  /** The agent to resume a recorded run with; undefined skips the run. */
  agentFor(run: RunRecord): Agent | undefined;
  runOptions?: RunOptions;
  /** Most runs to take in this call (default 1000). */
  limit?: number;
}

export interface RecoveryReport {
  results: RunResult[];
  /** Runs not resumed: another process claimed them first, no agent, or they failed. */
  skipped: Array<{ runId: string; reason: string }>;
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
  const localThroughput = createThroughputStore(throughputPath(config.local.modelsDirectory));
  const prices = chainPriceSources(
    createOverridePriceSource(config.prices),
    scriptedPrices,
    createSelfHostedPriceSource({
      usdPerCpuHour: config.local.usdPerCpuHour,
      usdPerGpuHour: config.local.usdPerGpuHour,
      throughput: (modelId) => localThroughput.lookup(modelId),
    }),
    cacheHitPriceSource,
    createGenaiPricesSource(),
  );
  const models = new Map<string, Model>();
  const breakers = createCircuitBreakerRegistry();
  let cache: (ModelCallCache & { close(): void | Promise<void> }) | undefined;
  let engine = options.engine;
  const ownsEngine = options.engine === undefined;
  // Armed only by the fault-injection suite's fixtures, never from the environment.
  const faults: FaultPoints = options.faults ?? noFaultPoints;

  const model = (name: string): Model => {
    let created = models.get(name);
    if (!created) {
      // With a PostgreSQL journal the cache lives in the same database, shared by every worker.
      if (config.cache && !cache) {
        cache = config.journal.url
          ? openPostgresModelCallCache({ url: config.journal.url })
          : openSqliteModelCallCache({ path: config.cache.path });
      }
      created = createModel(name, {
        config,
        cwd,
        breakers,
        ...(cache ? { cache } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      models.set(name, created);
    }
    return created;
  };
  const openEngine = (): Engine => {
    const lease = options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {};
    const durability = config.journal.durability;
    engine ??= config.journal.url
      ? openPostgresEngine({
          url: config.journal.url,
          faults,
          durability,
          ...lease,
          ...(options.onJournalUnreachable ? { onUnreachable: options.onJournalUnreachable } : {}),
        })
      : openSqliteEngine({ path: config.journal.path, faults, durability, ...lease });
    return engine;
  };
  const gate: ConcurrencyGate = createConcurrencyGate(options.maxConcurrentRuns ?? 16);
  const context = contextFromConfig(config);
  const runOptions = (given: RunOptions | undefined): RunOptions => ({
    gate,
    budgets: config.budgets,
    ...(context.strategy ? { context: context.strategy } : {}),
    ...(context.maxInputTokens !== undefined ? { maxInputTokens: context.maxInputTokens } : {}),
    workspace: config.workspace,
    prices,
    resolveModel: model,
    faults,
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...given,
    engine: given?.engine ?? openEngine(),
  });

  return {
    config,
    get engine() {
      return openEngine();
    },
    prices,
    model,
    run: (agent, input, given) => run(agent, input, runOptions(given)),
    resume: (agent, runId, given) => resume(agent, runId, runOptions(given)),
    submit: (agent, input, given = {}) => submit(agent, input, { ...given, engine: openEngine() }),
    approve: async (runId, decision = {}) =>
      openEngine().decideApproval({
        runId: decision.stepIndex === undefined ? await decisionTarget(openEngine(), runId) : runId,
        stepIndex: decision.stepIndex,
        outcome: 'approve',
        actor: decision.actor ?? defaultActor(options.env ?? process.env),
        note: decision.note,
      }),
    deny: async (runId, decision) =>
      openEngine().decideApproval({
        runId: decision.stepIndex === undefined ? await decisionTarget(openEngine(), runId) : runId,
        stepIndex: decision.stepIndex,
        outcome: 'deny',
        actor: decision.actor ?? defaultActor(options.env ?? process.env),
        note: decision.reason,
      }),
    async recover(recoverOptions) {
      const report: RecoveryReport = { results: [], skipped: [] };
      await openEngine().expireApprovalDeadlines();
      const candidates = await openEngine().recoverableRuns({ limit: recoverOptions.limit ?? 1000 });
      await Promise.all(
        candidates.map(async (candidate) => {
          // A delegated task whose parent is still open is resumed by its parent, which waits
          // for it; resuming it here too would run it twice in this process.
          const parent = candidate.parentRunId ? await openEngine().getRun(candidate.parentRunId) : undefined;
          if (parent && openRunStatuses.includes(parent.status)) {
            report.skipped.push({ runId: candidate.id, reason: `resumed by its parent run ${parent.id}` });
            return;
          }
          const agent = recoverOptions.agentFor(candidate);
          if (!agent) {
            report.skipped.push({ runId: candidate.id, reason: `no agent named ${candidate.agentName}` });
            return;
          }
          try {
            report.results.push(await resume(agent, candidate.id, runOptions(recoverOptions.runOptions)).result);
          } catch (error) {
            report.skipped.push({
              runId: candidate.id,
              reason: error instanceof Error ? error.message : String(error),
            });
          }
        }),
      );
      return report;
    },
    async close() {
      if (ownsEngine) await engine?.close();
      engine = undefined;
      await cache?.close();
      cache = undefined;
    },
  };
}

/** The context strategy the config asks for: offload large tool results, then mask used ones. */
function contextFromConfig(config: HatarakuConfig): { strategy?: ContextStrategy; maxInputTokens?: number } {
  const settings = config.context;
  if (!settings) return {};
  const strategies: ContextStrategy[] = [];
  if (settings.offload) strategies.push(offloadLargeToolResults(withoutUndefined(settings.offload)));
  if (settings.mask) strategies.push(maskUsedToolResults(withoutUndefined(settings.mask)));
  return {
    ...(strategies.length > 0 ? { strategy: composeStrategies(...strategies) } : {}),
    ...(settings.maxInputTokens !== undefined ? { maxInputTokens: settings.maxInputTokens } : {}),
  };
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** Who decides, when the caller does not say: the operating-system user. */
function defaultActor(env: Environment): string {
  return env.HATARAKU_USER ?? env.USER ?? env.LOGNAME ?? 'unknown';
}
