import { describe, expect, it } from 'vitest';
import { collectResponse } from '../models/collect-response.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { ModelRequest } from '../models/spec.js';
import { createStepRouter } from './step-router.js';

function scripted(modelId: string) {
  return createScriptedModel({
    script: { turns: [{ text: `${modelId} 1` }, { text: `${modelId} 2` }, { text: `${modelId} 3` }] },
    modelId,
  });
}

const firstTurn: ModelRequest = {
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'Find the weather in Oslo.' },
  ],
};

const afterTool: ModelRequest = {
  messages: [
    ...firstTurn.messages,
    {
      role: 'assistant',
      content: [{ type: 'tool-call', id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    },
    { role: 'tool', toolCallId: 'c1', toolName: 'get_weather', content: '{"celsius":4}' },
  ],
};

describe('createStepRouter', () => {
  it('plans with the strong model and follows tool results with the cheap one', async () => {
    const planning = scripted('strong');
    const tools = scripted('cheap');
    const router = createStepRouter({ name: 'steps', planning, tools });

    const first = await collectResponse(router, firstTurn);
    expect(first.text).toBe('strong 1');
    expect(first.routing).toEqual([
      { model: 'scripted:strong', reason: 'step: no tool results yet; planning with scripted:strong' },
    ]);
    expect(first.usageByModel.map((entry) => entry.model)).toEqual(['scripted:strong']);

    const second = await collectResponse(router, afterTool);
    expect(second.text).toBe('cheap 2');
    expect(second.routing).toEqual([
      { model: 'scripted:cheap', reason: 'step: follows 1 tool result(s); continuing with scripted:cheap' },
    ]);
    expect(second.usageByModel.map((entry) => entry.model)).toEqual(['scripted:cheap']);
    expect(router.routesTo).toEqual(['scripted:strong', 'scripted:cheap']);
  });

  it('plans again when a new user message follows earlier tool results', async () => {
    const router = createStepRouter({ name: 'steps', planning: scripted('strong'), tools: scripted('cheap') });
    const followUp: ModelRequest = {
      messages: [
        ...afterTool.messages,
        { role: 'assistant', content: [{ type: 'text', text: 'It is 4 °C.' }] },
        { role: 'user', content: 'And tomorrow?' },
      ],
    };
    expect((await collectResponse(router, followUp)).routing[0]?.model).toBe('scripted:strong');
  });

  it('follows a custom choice and records its reason', async () => {
    const router = createStepRouter({
      name: 'long-prompts',
      planning: scripted('strong'),
      tools: scripted('cheap'),
      choose: (request, models) =>
        request.messages.length > 3
          ? { model: models.planning, reason: 'long conversation' }
          : { model: models.tools, reason: 'short conversation' },
    });
    const short = await collectResponse(router, firstTurn);
    expect(short.routing).toEqual([{ model: 'scripted:cheap', reason: 'step: short conversation' }]);
    expect((await collectResponse(router, afterTool)).routing[0]?.model).toBe('scripted:strong');
  });

  it('refuses a choice outside its two models', async () => {
    const router = createStepRouter({
      name: 'wrong',
      planning: scripted('strong'),
      tools: scripted('cheap'),
      choose: () => ({ model: scripted('other'), reason: 'oops' }),
    });
    await expect(collectResponse(router, firstTurn)).rejects.toThrow(TypeError);
  });
});
