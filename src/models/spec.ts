/**
 * The model specification: the one plain, versioned contract every provider implements.
 *
 * A provider turns a `ModelRequest` into an async stream of `ModelStreamEvent`s. Everything a
 * provider cannot honour is reported as a `warning` event, never silently dropped. Bump
 * `specificationVersion` when a change would break an existing provider.
 */

/** JSON value, as carried in tool arguments, tool results and structured output. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON Schema object (draft 2020-12 subset that providers accept). */
export type JsonSchema = { [key: string]: unknown };

/** A tool call made by the model. `arguments` is the raw JSON text the model wrote. */
export interface ToolCallPart {
  type: 'tool-call';
  /** Provider-assigned id, echoed back in the matching tool result. */
  id: string;
  name: string;
  /** Raw argument text as the model produced it; may be malformed and is repaired later. */
  arguments: string;
}

export interface TextPart {
  type: 'text';
  text: string;
}

/**
 * The model's reasoning before it answered (DeepSeek's `reasoning_content`, Anthropic's
 * `thinking` and `redacted_thinking` blocks). It is kept in the history and the journal because
 * some providers require it back on the next turn when tools are used.
 */
export interface ReasoningPart {
  type: 'reasoning';
  /** The reasoning text; empty for redacted reasoning. */
  text: string;
  /** Anthropic's signature over a thinking block; it must be sent back unchanged. */
  signature?: string;
  /** Anthropic's encrypted `redacted_thinking` data, sent back unchanged. */
  redactedData?: string;
}

/** Media types an image part may have; providers accept these four. */
export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** An image given to the model, inline as base64. */
export interface ImagePart {
  type: 'image';
  mediaType: ImageMediaType;
  /** Base64 of the image bytes (no `data:` prefix). */
  data: string;
  /** Where it came from, e.g. the workspace path, for messages and the journal. */
  filename?: string;
}

/** A document given to the model, inline as base64. Only PDF is defined. */
export interface FilePart {
  type: 'file';
  mediaType: 'application/pdf';
  /** Base64 of the file bytes. */
  data: string;
  filename?: string;
}

/** What a user message may carry besides plain text. */
export type UserContentPart = TextPart | ImagePart | FilePart;

export interface SystemMessage {
  role: 'system';
  content: string;
}

export interface UserMessage {
  role: 'user';
  /** Plain text, or parts when the message carries images or files. */
  content: string | UserContentPart[];
}

export interface AssistantMessage {
  role: 'assistant';
  content: Array<TextPart | ReasoningPart | ToolCallPart>;
}

export interface ToolResultMessage {
  role: 'tool';
  /** Id of the tool call this answers. */
  toolCallId: string;
  toolName: string;
  /** Result as text (JSON-encoded when the tool returned a structure). */
  content: string;
  /** True when the content describes an error the model should correct. */
  isError?: boolean;
}

export type ModelMessage = SystemMessage | UserMessage | AssistantMessage | ToolResultMessage;

/** A tool as the model sees it. */
export interface ModelToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  inputSchema: JsonSchema;
  /**
   * Ask the provider to hold the arguments to the schema while generating (OpenAI's and
   * Anthropic's `strict`). Optional parameters then arrive as `null`, which tool preparation
   * drops. A schema strict mode cannot express is sent without it, with a warning.
   */
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'tool'; name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json' }
  | { type: 'json-schema'; name: string; schema: JsonSchema; description?: string; strict?: boolean };

export interface ModelRequest {
  messages: ModelMessage[];
  tools?: ModelToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  temperature?: number;
  maxOutputTokens?: number;
  stop?: string[];
  /** Allow the model to return several tool calls in one turn (default true where supported). */
  parallelToolCalls?: boolean;
  /** Aborts the request, including a stream in progress. */
  abortSignal?: AbortSignal;
  /**
   * A stable key for the provider's prompt cache, e.g. the agent's name: requests sharing a
   * prefix and a key are routed to the same cache (OpenAI's `prompt_cache_key`). Providers
   * without such a setting ignore it.
   */
  promptCacheKey?: string;
  /**
   * The tightest budget this call runs under, for routing models that downgrade as it runs out
   * (`src/routing`); plain providers ignore it.
   */
  budget?: { spentUsd: number; limitUsd: number; softLimitUsd?: number | undefined };
}

/** Token counts for one model call. Fields a provider did not report are undefined, not zero. */
export interface Usage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens?: number | undefined;
  /** Input tokens written to the provider's prompt cache (Anthropic cache_creation). */
  cacheWriteTokens?: number | undefined;
  /** Output tokens spent on reasoning (a subset of outputTokens), where the provider reports them. */
  reasoningTokens?: number | undefined;
}

/**
 * Why a call ended. `refusal`: the model declined to answer (OpenAI's `refusal`, Anthropic's
 * `stop_reason: "refusal"`); the response's `refusal` holds its words.
 */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'refusal' | 'error' | 'other';

/** Every finish reason, for schemas that check recorded responses. */
export const finishReasons = [
  'stop',
  'length',
  'tool-calls',
  'content-filter',
  'refusal',
  'error',
  'other',
] as const satisfies readonly FinishReason[];

export interface ModelWarning {
  /**
   * `unsupported-setting`: a request field was changed or dropped; `unsupported-content`: a
   * message part (an image, a PDF) the model cannot take was left out.
   */
  type: 'unsupported-setting' | 'unsupported-content' | 'other';
  /** The request field concerned, e.g. `responseFormat`. */
  setting?: string;
  message: string;
}

export type ModelStreamEvent =
  | { type: 'stream-start'; warnings: ModelWarning[] }
  | { type: 'text-delta'; delta: string }
  /** A piece of reasoning text, for live progress. */
  | { type: 'reasoning-delta'; delta: string }
  /** One complete reasoning part, as it must be kept and sent back. */
  | { type: 'reasoning'; part: ReasoningPart }
  /** The model declined to answer; `text` is its explanation (may be empty). */
  | { type: 'refusal'; text: string }
  | { type: 'tool-call-start'; id: string; name: string; index: number }
  | { type: 'tool-call-delta'; id: string; argumentsDelta: string }
  | { type: 'tool-call-end'; id: string; name: string; arguments: string }
  | {
      type: 'usage';
      usage: Usage;
      /**
       * The model that used these tokens, as `provider:modelId`, when it is not the model being
       * called: a routing model (fallback, cascade) reports one usage event per model it called,
       * so each is priced at its own rates.
       */
      model?: string;
    }
  /** A routing model chose `model` for this call, for `reason` (e.g. "fallback after 429"). */
  | {
      type: 'routing';
      model: string;
      reason: string;
      /**
       * The text of the answer a cascade rejected before this escalation, kept in the journal
       * so that a router can later learn from production runs (`routes train --from ledger`).
       */
      rejectedAnswer?: string | undefined;
    }
  | { type: 'finish'; finishReason: FinishReason; providerFinishReason?: string | undefined }
  | { type: 'warning'; warning: ModelWarning };

/** A language model. Implementations live under `src/models/<provider>/`. */
export interface Model {
  readonly specificationVersion: 'v1';
  /** Provider id, e.g. `openai`, `anthropic`, `scripted`. */
  readonly provider: string;
  /** Model id as the provider knows it, e.g. `gpt-4o-mini`. */
  readonly modelId: string;
  /**
   * For routing models: the models (`provider:modelId`) a call may use. Budget checks price a
   * call at the most expensive of them.
   */
  readonly routesTo?: readonly string[];
  /**
   * Start a call. Errors before the first byte reject with a `ModelCallError`; errors mid-stream
   * are thrown from the iterator. Retries are the provider's job and happen before any event
   * has been yielded.
   */
  stream(request: ModelRequest): AsyncIterable<ModelStreamEvent>;
}

/** Tokens used by one model within a call. */
export interface ModelUsage {
  /** `provider:modelId`. */
  model: string;
  usage: Usage;
}

/** The assembled result of one model call. */
export interface ModelResponse {
  text: string;
  toolCalls: ToolCallPart[];
  /** Reasoning parts in order, when the model reported them (absent otherwise). */
  reasoning?: ReasoningPart[];
  /** The model's refusal text, when `finishReason` is `refusal`. */
  refusal?: string;
  /** Total over every model the call used. */
  usage: Usage;
  /** Usage per model, for pricing each at its own rates (one entry for a plain model). */
  usageByModel: ModelUsage[];
  /** Routing decisions made during the call, in order. */
  routing: Array<{ model: string; reason: string; rejectedAnswer?: string | undefined }>;
  finishReason: FinishReason;
  warnings: ModelWarning[];
}
