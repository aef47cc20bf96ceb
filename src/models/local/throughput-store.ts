/**
 * Throughput Hataraku measured for each local model on this machine: prompt (input) and
 * generation (output) tokens per second, summed over calls, kept in `throughput.json` in the
 * model cache folder so it survives the process and prices later runs.
 *
 * Input throughput counts every prompt token over the time to the first output token. Prompt
 * prefixes reused from the previous call of the same run are not evaluated again, so this is the
 * effective rate a run sees, which is what the price should reflect.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Totals for one model on one device. */
export interface ThroughputRecord {
  device: 'cpu' | 'gpu';
  inputTokens: number;
  inputSeconds: number;
  outputTokens: number;
  outputSeconds: number;
  calls: number;
  updatedAt: string;
}

/** One call's measurement. */
export interface ThroughputSample {
  device: 'cpu' | 'gpu';
  inputTokens: number;
  inputSeconds: number;
  outputTokens: number;
  outputSeconds: number;
}

/** Measured rates in tokens per second; undefined when not yet measured. */
export interface Throughput {
  device: 'cpu' | 'gpu';
  inputTokensPerSecond: number | undefined;
  outputTokensPerSecond: number | undefined;
  calls: number;
}

export interface ThroughputStore {
  record(modelId: string, sample: ThroughputSample): void;
  lookup(modelId: string): Throughput | undefined;
}

/** The file the store keeps, inside the model cache folder. */
export function throughputPath(modelsDirectory: string): string {
  return join(modelsDirectory, 'throughput.json');
}

/** A store backed by `path`, re-read on each lookup so several processes see each other's figures. */
export function createThroughputStore(path: string): ThroughputStore {
  return {
    record(modelId, sample) {
      const records = read(path);
      const previous = records[modelId];
      const base =
        previous && previous.device === sample.device
          ? previous
          : { inputTokens: 0, inputSeconds: 0, outputTokens: 0, outputSeconds: 0, calls: 0 };
      records[modelId] = {
        device: sample.device,
        inputTokens: base.inputTokens + sample.inputTokens,
        inputSeconds: base.inputSeconds + sample.inputSeconds,
        outputTokens: base.outputTokens + sample.outputTokens,
        outputSeconds: base.outputSeconds + sample.outputSeconds,
        calls: base.calls + 1,
        updatedAt: new Date().toISOString(),
      };
      mkdirSync(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(records, null, 2)}\n`);
      renameSync(temporary, path);
    },
    lookup(modelId) {
      const record = read(path)[modelId];
      if (!record) return undefined;
      return {
        device: record.device,
        inputTokensPerSecond: rate(record.inputTokens, record.inputSeconds),
        outputTokensPerSecond: rate(record.outputTokens, record.outputSeconds),
        calls: record.calls,
      };
    },
  };
}

function rate(tokens: number, seconds: number): number | undefined {
  return tokens > 0 && seconds > 0 ? tokens / seconds : undefined;
}

function read(path: string): Record<string, ThroughputRecord> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, ThroughputRecord>) : {};
  } catch {
    // A damaged file only loses measurements; the next call starts them again.
    return {};
  }
}
