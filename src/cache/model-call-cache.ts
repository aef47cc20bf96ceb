/**
 * The contract of a store for the exact model-call cache, and the shape of what it keeps.
 *
 * A stored entry is the assembled answer (text, tool calls, finish reason, warnings) and the
 * usage the original call had, so a hit can be replayed as a stream and can say how many tokens
 * it saved. Stores parse entries with `cachedResponseSchema` when reading them back.
 */
import { z } from 'zod';
import { finishReasons } from '../models/spec.js';

const usageSchema = z.object({
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  cachedInputTokens: z.number().optional(),
  cacheWriteTokens: z.number().optional(),
});

/** The answer of a cached call. */
export const cachedResponseSchema = z.object({
  version: z.literal(1),
  text: z.string(),
  toolCalls: z.array(
    z.object({ type: z.literal('tool-call'), id: z.string(), name: z.string(), arguments: z.string() }),
  ),
  finishReason: z.enum(finishReasons),
  /** Reasoning parts, which some providers need back on the next turn. */
  reasoning: z
    .array(
      z.object({
        type: z.literal('reasoning'),
        text: z.string(),
        signature: z.string().optional(),
        redactedData: z.string().optional(),
      }),
    )
    .optional(),
  refusal: z.string().optional(),
  warnings: z.array(
    z.object({
      type: z.enum(['unsupported-setting', 'unsupported-content', 'other']),
      setting: z.string().optional(),
      message: z.string(),
    }),
  ),
  /** What the original call used, per model: the tokens a hit saves. */
  usageByModel: z.array(z.object({ model: z.string(), usage: usageSchema })),
});

export type CachedResponse = z.output<typeof cachedResponseSchema>;

/** One cache entry. */
export interface CachedModelCall {
  /** See `modelCallKey`: covers the request, the model and the tenant. */
  key: string;
  tenant: string | undefined;
  /** The model that answered, `provider:modelId`. */
  model: string;
  response: CachedResponse;
  /** Milliseconds since the epoch. */
  createdAt: number;
  expiresAt: number;
}

/** A store of cached model calls. */
export interface ModelCallCache {
  /** The entry under `key`, unless it has expired by `now` (ms since the epoch). */
  get(key: string, now: number): Promise<CachedModelCall | undefined>;
  /** Store an entry, replacing one with the same key. */
  put(entry: CachedModelCall): Promise<void>;
  /** Remove entries expired by `now`; returns how many were removed. */
  deleteExpired(now: number): Promise<number>;
  /** Remove every entry, or a tenant's (`null` for entries without a tenant); returns how many. */
  clear(tenant?: string | null): Promise<number>;
}
