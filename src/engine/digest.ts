/**
 * Request digests: SHA-256 over a canonical JSON encoding (object keys sorted, undefined
 * dropped), so that the same request always has the same digest across processes.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const entry = (value as Record<string, unknown>)[key];
      if (entry !== undefined) sorted[key] = sortKeys(entry);
    }
    return sorted;
  }
  return value;
}

export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * Digests of a growing conversation without rehashing it: messages are fed once as they are
 * appended, and each request's digest covers every message so far plus the request's other
 * fields. The cost per step is that of the new messages, not of the whole history.
 */
export interface ConversationDigest {
  append(message: unknown): void;
  digest(requestFields: unknown): string;
}

export function createConversationDigest(): ConversationDigest {
  const history = createHash('sha256');
  return {
    append(message) {
      history.update(canonicalJson(message));
      history.update('\n');
    },
    digest(requestFields) {
      return history.copy().update(canonicalJson(requestFields)).digest('hex');
    },
  };
}
