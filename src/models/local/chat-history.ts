/**
 * A request's messages as node-llama-cpp chat history, rendered by the model's own chat
 * template. A tool call and its result become one `functionCall` item of the model's turn, which
 * is how node-llama-cpp's chat wrappers (and, through them, a Jinja template's `tool_calls` and
 * `tool` messages) expect them.
 */
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';
import type { ModelMessage, ModelWarning } from '../spec.js';

/**
 * The history to generate the next model turn from; it ends with an empty model turn. Images
 * and files cannot reach a text-only GGUF model: each is replaced by a short placeholder and one
 * `unsupported-content` warning is added to `warnings`. Reasoning parts of earlier turns are left
 * out, as chat templates drop them too.
 */
export function toChatHistory(messages: readonly ModelMessage[], warnings: ModelWarning[] = []): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const callsById = new Map<string, ChatModelFunctionCall>();
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        break;
      case 'user': {
        if (typeof message.content === 'string') {
          history.push({ type: 'user', text: message.content });
          break;
        }
        const texts: string[] = [];
        for (const part of message.content) {
          if (part.type === 'text') {
            texts.push(part.text);
            continue;
          }
          texts.push(`[${part.type} ${part.filename ?? part.mediaType} left out: this model reads text only]`);
          if (!warnings.some((warning) => warning.type === 'unsupported-content')) {
            warnings.push({
              type: 'unsupported-content',
              message: 'local GGUF models read text only; image and file parts were left out',
            });
          }
        }
        history.push({ type: 'user', text: texts.join('\n') });
        break;
      }
      case 'assistant': {
        const response: ChatModelResponse['response'] = [];
        for (const part of message.content) {
          if (part.type === 'text') {
            if (part.text !== '') response.push(part.text);
            continue;
          }
          if (part.type === 'reasoning') continue;
          const call: ChatModelFunctionCall = {
            type: 'functionCall',
            name: part.name,
            params: parseArguments(part.arguments),
            result: undefined,
          };
          callsById.set(part.id, call);
          response.push(call);
        }
        history.push({ type: 'model', response });
        break;
      }
      case 'tool': {
        const call = callsById.get(message.toolCallId);
        const result = message.isError ? `error: ${message.content}` : message.content;
        if (call) call.result = result;
        // A result without its call (a trimmed history) still reaches the model, as user text.
        else history.push({ type: 'user', text: `Result of ${message.toolName}: ${result}` });
        break;
      }
    }
  }
  history.push({ type: 'model', response: [] });
  return history;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
