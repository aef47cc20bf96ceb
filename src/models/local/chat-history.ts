/**
 * A request's messages as node-llama-cpp chat history, rendered by the model's own chat
 * template. A tool call and its result become one `functionCall` item of the model's turn, which
 * is how node-llama-cpp's chat wrappers (and, through them, a Jinja template's `tool_calls` and
 * `tool` messages) expect them.
 */
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';
import type { ModelMessage } from '../spec.js';

/** The history to generate the next model turn from; it ends with an empty model turn. */
export function toChatHistory(messages: readonly ModelMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const callsById = new Map<string, ChatModelFunctionCall>();
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        break;
      case 'user':
        history.push({ type: 'user', text: message.content });
        break;
      case 'assistant': {
        const response: ChatModelResponse['response'] = [];
        for (const part of message.content) {
          if (part.type === 'text') {
            if (part.text !== '') response.push(part.text);
            continue;
          }
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
