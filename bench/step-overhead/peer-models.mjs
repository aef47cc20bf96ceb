/**
 * Scripted models for the peer frameworks, replaying the same script as Hataraku's scripted
 * model with the same rule: the reply to a request is the script turn whose index equals the
 * number of model turns already in the request. No latency, no token estimation, fixed usage.
 *
 * Written here rather than taken from the peers' test helpers so that all three contenders'
 * models do the same (minimal) work.
 */
import { Usage } from '@openai/agents-core';
import { scriptedCallId } from './script.mjs';

function turnAt(script, turnIndex, framework) {
  const turn = script.turns[turnIndex];
  if (!turn) {
    throw new Error(
      `${framework} scripted model: the script has ${script.turns.length} turns but the run asked for turn ${turnIndex + 1}`,
    );
  }
  return turn;
}

/**
 * A Vercel AI SDK `LanguageModelV3` (the specification `ai@6` calls) replaying `script`.
 * `generateText` calls `doGenerate`; `doStream` is there for completeness.
 */
export function createAiSdkScriptedModel(script) {
  function reply(options) {
    const turnIndex = options.prompt.filter((message) => message.role === 'assistant').length;
    const turn = turnAt(script, turnIndex, 'AI SDK');
    const toolCalls = turn.toolCalls ?? [];
    const content = [];
    if (turn.text) content.push({ type: 'text', text: turn.text });
    for (const [position, call] of toolCalls.entries()) {
      content.push({
        type: 'tool-call',
        toolCallId: scriptedCallId(turnIndex, position),
        toolName: call.name,
        input: JSON.stringify(call.arguments),
      });
    }
    const inputTokens = turn.usage.inputTokens;
    const outputTokens = turn.usage.outputTokens;
    return {
      content,
      finishReason:
        toolCalls.length > 0 ? { unified: 'tool-calls', raw: 'tool_calls' } : { unified: 'stop', raw: 'stop' },
      usage: {
        inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: undefined, cacheWrite: undefined },
        outputTokens: { total: outputTokens, text: outputTokens, reasoning: undefined },
      },
      warnings: [],
    };
  }

  return {
    specificationVersion: 'v3',
    provider: 'scripted',
    modelId: 'bench',
    supportedUrls: {},
    async doGenerate(options) {
      return reply(options);
    },
    async doStream(options) {
      const { content, finishReason, usage } = reply(options);
      const parts = [{ type: 'stream-start', warnings: [] }];
      for (const [position, part] of content.entries()) {
        if (part.type === 'text') {
          const id = `text_${position}`;
          parts.push(
            { type: 'text-start', id },
            { type: 'text-delta', id, delta: part.text },
            { type: 'text-end', id },
          );
        } else {
          parts.push(part);
        }
      }
      parts.push({ type: 'finish', finishReason, usage });
      return {
        stream: new ReadableStream({
          start(controller) {
            for (const part of parts) controller.enqueue(part);
            controller.close();
          },
        }),
      };
    },
  };
}

/**
 * An OpenAI Agents SDK `Model` replaying `script`. Model turns already in the request are its
 * `function_call` items and assistant messages (each scripted turn yields exactly one of them).
 * `run()` without `stream` calls `getResponse`; `getStreamedResponse` is there for completeness.
 */
export function createAgentsScriptedModel(script) {
  function reply(request) {
    const items = typeof request.input === 'string' ? [] : request.input;
    const turnIndex = items.filter(
      (item) => item.type === 'function_call' || (item.type === 'message' && item.role === 'assistant'),
    ).length;
    const turn = turnAt(script, turnIndex, 'Agents SDK');
    const output = [];
    if (turn.text) {
      output.push({
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: turn.text }],
      });
    }
    for (const [position, call] of (turn.toolCalls ?? []).entries()) {
      output.push({
        type: 'function_call',
        callId: scriptedCallId(turnIndex, position),
        name: call.name,
        status: 'completed',
        arguments: JSON.stringify(call.arguments),
      });
    }
    const { inputTokens, outputTokens } = turn.usage;
    return {
      responseId: `response_${turnIndex + 1}`,
      output,
      usage: new Usage({ requests: 1, inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }),
    };
  }

  return {
    async getResponse(request) {
      return reply(request);
    },
    async *getStreamedResponse(request) {
      const response = reply(request);
      yield { type: 'response_started' };
      yield {
        type: 'response_done',
        response: {
          id: response.responseId,
          usage: {
            requests: 1,
            inputTokens: response.usage.inputTokens,
            outputTokens: response.usage.outputTokens,
            totalTokens: response.usage.totalTokens,
          },
          output: response.output,
        },
      };
    },
  };
}
