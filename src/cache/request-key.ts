/**
 * The key of an exact model-call cache: SHA-256 over the canonical form of everything that
 * decides a model's answer (the model, the messages, tools, tool choice, response format,
 * sampling settings) and the tenant.
 *
 * Canonical means object keys sorted and absent fields dropped, and fields that mean the same
 * thing written the same way: a tool result's `isError: false` is the same as no `isError`, and
 * a `text` response format the same as none. Nothing else is normalised: a cache that answered
 * a different prompt would be wrong, a missed hit only costs a call. The abort signal and the
 * request's budget do not change the answer and are left out.
 */
import { digestOf } from '../engine/digest.js';
import type { ModelMessage, ModelRequest } from '../models/spec.js';

/** Bump when the key's contents change, so old entries stop matching. */
const keyVersion = 1;

/** What a cache key is computed from. */
export interface ModelCallKeyInput {
  request: ModelRequest;
  /** The model that answers, `provider:modelId`. */
  model: string;
  /** Entries of one tenant are never served to another. */
  tenant?: string | undefined;
}

/** The hex SHA-256 cache key of a call. */
export function modelCallKey(input: ModelCallKeyInput): string {
  return digestOf({
    version: keyVersion,
    model: input.model,
    // null, not absent: no tenant must not share keys with a tenant named "undefined".
    tenant: input.tenant ?? null,
    request: normalizedRequest(input.request),
  });
}

/** The fields of `request` that decide the answer, written one way. */
export function normalizedRequest(request: ModelRequest): Record<string, unknown> {
  return {
    messages: request.messages.map(normalizedMessage),
    tools: request.tools !== undefined && request.tools.length > 0 ? request.tools : undefined,
    toolChoice: request.toolChoice,
    responseFormat: request.responseFormat?.type === 'text' ? undefined : request.responseFormat,
    temperature: request.temperature,
    maxOutputTokens: request.maxOutputTokens,
    stop: request.stop !== undefined && request.stop.length > 0 ? request.stop : undefined,
    parallelToolCalls: request.parallelToolCalls,
  };
}

function normalizedMessage(message: ModelMessage): ModelMessage {
  if (message.role !== 'tool' || message.isError === true) return message;
  const { isError: _notAnError, ...rest } = message;
  return rest;
}
