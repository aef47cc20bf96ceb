/**
 * Tool-call ids that Hataraku makes up (for calls a server sent without an id, and for calls
 * the model wrote as text). They are sent back to providers in the next turn's history, so they
 * must be valid everywhere: vLLM with a Mistral tokenizer accepts exactly nine ASCII letters and
 * digits, Anthropic accepts `[a-zA-Z0-9_-]+`, OpenAI any string. Nine alphanumerics satisfy all.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Length of a made-up id: the one length every provider accepts. */
export const madeUpToolCallIdLength = 9;

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A made-up id derived from `seed`, so a replayed run gets the same id again. */
export function toolCallIdFrom(seed: string): string {
  return encode(createHash('sha256').update(seed).digest());
}

/** A fresh random made-up id. */
export function randomToolCallId(): string {
  return encode(randomBytes(madeUpToolCallIdLength));
}

/** Whether `id` is valid for every provider (the shape `toolCallIdFrom` makes). */
export function isPortableToolCallId(id: string): boolean {
  return /^[A-Za-z0-9]{9}$/.test(id);
}

function encode(bytes: Buffer): string {
  let id = '';
  for (let position = 0; position < madeUpToolCallIdLength; position++) {
    // 256 is not a multiple of 62; the slight bias does not matter for an identifier.
    id += alphabet[(bytes[position] ?? 0) % alphabet.length];
  }
  return id;
}
