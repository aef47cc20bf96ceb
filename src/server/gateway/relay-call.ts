/**
 * The shapes the relay's parts share (`relay.ts` and the modules beside it): where an answer is
 * written, the provider a model is relayed to, one call, and a provider's answer as the
 * transport sees it.
 */
import type http from 'node:http';
import type { PostRequest, TransportResponse } from '../../models/transport/http.js';
import type { AbortSignalLike } from '../../models/transport/plain-abort.js';
import type { ApiKey } from '../keys/key-store.js';

/** Where a relayed answer is written: a Node response, or a Fetch response for in-process calls. */
export interface RelaySink {
  head(status: number, headers: Record<string, string>): void;
  /** False when the client is not keeping up; `onDrain` then says when to write again. */
  write(text: string): boolean;
  onDrain(listener: () => void): void;
  end(text?: string): void;
}

/** The provider a model name is relayed to. */
export interface RelayTarget {
  /** `provider:modelId`, the name prices and the ledger know the model by. */
  label: string;
  providerId: string;
  modelId: string;
  /** The provider call, less its body and abort signal, for a streamed and a whole answer. */
  streamed: Omit<PostRequest<UpstreamAnswer>, 'body' | 'abortSignal'>;
  whole: Omit<PostRequest<UpstreamAnswer>, 'body' | 'abortSignal'>;
}

export interface RelayCall {
  /** The model name as the client wrote it. */
  name: string;
  target: RelayTarget;
  /** The request body as the client sent it, already validated. */
  body: Record<string, unknown>;
  requestText: string;
  key: ApiKey;
  /** Fires when the client goes away: the provider call is dropped. */
  signal: AbortSignalLike;
}

/**
 * A provider's answer as the transport sees it: its status and headers, and either its body as a
 * Node stream (a successful answer, read by the relay) or its text (an error, up to 64 KiB).
 */
export interface UpstreamAnswer extends TransportResponse {
  incoming: http.IncomingMessage | undefined;
}
