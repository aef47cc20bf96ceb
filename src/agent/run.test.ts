import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { offloadLargeToolResults } from '../context/offload-tool-results.js';
import type { PriceSource } from '../cost/price-source.js';
import type { Engine } from '../engine/engine.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { NonDeterminismError } from '../errors.js';
import { sseBody, startFakeOpenAIServer, streamReply } from '../models/openai/fake-openai-server.js';
import { createOpenAIModel } from '../models/openai/openai-model.js';
import { createScriptedModel, type Script } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';
import { agent } from './agent.js';
import type { RunEvent } from './events.js';
import { resume, run } from './run.js';

function temporaryEngine(): Engine {
  return openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-run-')), 'journal.db') });
}

function calculator(executions: Array<{ a: number; b: number; key: string }> = []) {
  return tool({
    name: 'add',
    description: 'Add two integers.',
    input: z.object({ a: z.number().int(), b: z.number().int() }),
    effect: 'side-effect',
    execute: ({ a, b }, context) => {
      executions.push({ a, b, key: context.idempotencyKey });
      return { sum: a + b };
    },
  });
}

const prices: PriceSource = {
  lookup: () => ({ inputPerMillion: 1000, outputPerMillion: 2000, source: 'test' }),
};

describe('run()', () => {
  it('runs the model and its tool calls to a final answer, journaling each step', async () => {
    const engine = temporaryEngine();
    const executions: Array<{ a: number; b: number; key: string }> = [];
    const model = createScriptedModel({
      script: {
        turns: [{ toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] }, { text: 'The sum is 5.' }],
      },
    });
    const worker = agent({ name: 'adder', instructions: 'Add numbers.', model, tools: [calculator(executions)] });
    const events: RunEvent[] = [];
    const result = await run(worker, 'What is 2 + 3?', { engine, onEvent: (event) => events.push(event) });

    expect(result).toMatchObject({ status: 'completed', stopReason: 'final-answer', output: 'The sum is 5.' });
    expect(executions).toEqual([{ a: 2, b: 3, key: `${result.runId}:1` }]);
    expect((await engine.listSteps(result.runId)).map((step) => step.name)).toEqual(['model', 'tool:add', 'model']);
    expect(await engine.getRun(result.runId)).toMatchObject({ status: 'completed', output: 'The sum is 5.' });
    expect(events[0]).toMatchObject({ type: 'run-start', resumed: false });
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed' });
    expect(events.filter((event) => event.type === 'tool-call-end')).toEqual([
      expect.objectContaining({ toolName: 'add', output: '{"sum":5}', isError: false }),
    ]);
    // The model saw the tool result on its second call.
    expect(model.requests[1]?.messages.at(-1)).toMatchObject({
      role: 'tool',
      toolCallId: 'call_1_1',
      content: '{"sum":5}',
    });
    await engine.close();
  });

  it('streams events to an async iterator', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({
      script: { turns: [{ text: 'hello there, how are you today?' }] },
      chunkSize: 5,
    });
    const handle = run(agent({ name: 'greeter', instructions: '', model }), 'hi', { engine });
    const types: string[] = [];
    for await (const event of handle.events) types.push(event.type);
    await handle;
    expect(types[0]).toBe('run-start');
    expect(types.filter((type) => type === 'text-delta').length).toBe(7);
    expect(types.slice(-3)).toEqual(['usage', 'step-end', 'run-end']);
    await engine.close();
  });

  it('repairs sloppy arguments and a near-miss tool name, and reports the repairs', async () => {
    const engine = temporaryEngine();
    const executions: Array<{ a: number; b: number; key: string }> = [];
    const model = createScriptedModel({
      script: {
        turns: [{ toolCalls: [{ name: 'Add', arguments: "```json\n{'a': '2', 'b': 3,}\n```" }] }, { text: 'done' }],
      },
    });
    const events: RunEvent[] = [];
    await run(agent({ name: 'a', instructions: '', model, tools: [calculator(executions)] }), 'add', {
      engine,
      onEvent: (event) => events.push(event),
    });
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ a: 2, b: 3 });
    const start = events.find((event) => event.type === 'tool-call-start');
    expect(start?.type === 'tool-call-start' && start.repairs.length).toBeGreaterThanOrEqual(3);
    await engine.close();
  });

  it('sends a call that cannot be repaired back to the model with each issue, without crashing', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({
      script: {
        turns: [
          { toolCalls: [{ name: 'add', arguments: { a: 'two', c: 1 } }] },
          { toolCalls: [{ name: 'multiply', arguments: { a: 1 } }] },
          { text: 'gave up' },
        ],
      },
    });
    const executions: Array<{ a: number; b: number; key: string }> = [];
    const result = await run(agent({ name: 'a', instructions: '', model, tools: [calculator(executions)] }), 'x', {
      engine,
    });
    expect(result.status).toBe('completed');
    expect(executions).toHaveLength(0);
    const firstError = model.requests[1]?.messages.at(-1);
    expect(firstError).toMatchObject({ role: 'tool', isError: true });
    expect(firstError?.role === 'tool' && firstError.content).toMatch(/\ba\b/);
    expect(firstError?.role === 'tool' && firstError.content).toMatch(/\bb\b/);
    const unknownTool = model.requests[2]?.messages.at(-1);
    expect(unknownTool?.role === 'tool' && unknownTool.content).toMatch(/add/);
    await engine.close();
  });

  it('recognises tool calls written as text by a model without native tool calls', async () => {
    const engine = temporaryEngine();
    const executions: Array<{ a: number; b: number; key: string }> = [];
    const model = createScriptedModel({
      script: {
        turns: [
          { text: 'Let me add.\n<tool_call>{"name": "add", "arguments": {"a": 4, "b": 5}}</tool_call>' },
          { text: 'It is 9.' },
        ],
      },
    });
    const result = await run(agent({ name: 'a', instructions: '', model, tools: [calculator(executions)] }), 'x', {
      engine,
    });
    expect(executions).toEqual([expect.objectContaining({ a: 4, b: 5 })]);
    expect(result.output).toBe('It is 9.');
    await engine.close();
  });

  it('runs parallel tool calls concurrently, but never more than the limit at once', async () => {
    const engine = temporaryEngine();
    let inFlight = 0;
    let peak = 0;
    const slow = tool({
      name: 'slow',
      description: 'Wait a little.',
      input: z.object({ id: z.number() }),
      execute: async ({ id }) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inFlight--;
        return id;
      },
    });
    const calls = Array.from({ length: 6 }, (_, id) => ({ name: 'slow', arguments: { id } }));
    const model = createScriptedModel({ script: { turns: [{ toolCalls: calls }, { text: 'ok' }] } });
    const result = await run(agent({ name: 'a', instructions: '', model, tools: [slow], maxToolConcurrency: 2 }), 'x', {
      engine,
    });
    expect(peak).toBe(2);
    expect((await engine.listSteps(result.runId)).filter((step) => step.kind === 'tool')).toHaveLength(6);
    const results = model.requests[1]?.messages.filter((message) => message.role === 'tool');
    expect(results?.map((message) => message.role === 'tool' && message.content)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    await engine.close();
  });

  it('stops at max steps with a stated reason and the last text as partial output', async () => {
    const engine = temporaryEngine();
    const turns: Script['turns'] = Array.from({ length: 5 }, (_, index) => ({
      text: `working ${index}`,
      toolCalls: [{ name: 'add', arguments: { a: index, b: 1 } }],
    }));
    const model = createScriptedModel({ script: { turns } });
    const result = await run(
      agent({ name: 'a', instructions: '', model, tools: [calculator()], limits: { maxSteps: 3 } }),
      'x',
      { engine },
    );
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'max-steps', output: 'working 2' });
    expect(model.requests).toHaveLength(3);
    await engine.close();
  });

  it('detects a model repeating the same tool call with the same arguments', async () => {
    const engine = temporaryEngine();
    const executions: Array<{ a: number; b: number; key: string }> = [];
    const turns: Script['turns'] = Array.from({ length: 6 }, () => ({
      toolCalls: [{ name: 'add', arguments: { a: 1, b: 1 } }],
    }));
    const model = createScriptedModel({ script: { turns } });
    const result = await run(agent({ name: 'a', instructions: '', model, tools: [calculator(executions)] }), 'x', {
      engine,
    });
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'repeated-tool-call' });
    expect(executions).toHaveLength(2);
    expect(model.requests[3]?.messages.at(-1)).toMatchObject({ role: 'tool', isError: true });
    await engine.close();
  });

  it('checks the cost limit before a call, against an estimate, and stops with budget-exceeded', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({
      script: {
        turns: [
          { toolCalls: [{ name: 'add', arguments: { a: 1, b: 2 } }], usage: { inputTokens: 1000, outputTokens: 100 } },
          { text: 'never reached' },
        ],
      },
    });
    // First call: estimate (~10 tokens in + 200 out) costs about $0.41, within $1.5; actual $1.2.
    // Second call: $1.2 spent + the estimate passes $1.5, so it is not made.
    const result = await run(
      agent({
        name: 'a',
        instructions: '',
        model,
        tools: [calculator()],
        maxOutputTokens: 200,
        limits: { maxCostUsd: 1.5 },
      }),
      'x',
      { engine, prices },
    );
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'budget-exceeded' });
    expect(result.totals.costUsd).toBeCloseTo(1.2, 6);
    expect(model.requests).toHaveLength(1);
    await engine.close();
  });

  it('refuses a cost limit it cannot enforce because the price is unknown', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({ script: { turns: [{ text: 'x' }] } });
    const worker = agent({ name: 'a', instructions: '', model, limits: { maxCostUsd: 1 } });
    await expect(run(worker, 'x', { engine, prices: { lookup: () => undefined } })).rejects.toThrow(
      /no price is known for scripted:script/,
    );
    await engine.close();
  });

  it('records an unknown price as unknown, not as zero', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({
      script: { turns: [{ text: 'x', usage: { inputTokens: 10, outputTokens: 2 } }] },
    });
    const result = await run(agent({ name: 'a', instructions: '', model }), 'x', { engine });
    expect(result.totals).toMatchObject({ costUsd: 0, unpricedModelCalls: 1, inputTokens: 10 });
    expect((await engine.listSteps(result.runId))[0]?.costUsd).toBeUndefined();
    await engine.close();
  });

  it('validates a structured final output and asks the model to correct an invalid one', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({
      script: {
        turns: [{ text: '{"city": "Kyoto"}' }, { text: 'Here you go: {"city": "Kyoto", "population": 1460000}' }],
      },
    });
    const worker = agent({
      name: 'a',
      instructions: '',
      model,
      output: z.object({ city: z.string(), population: z.number().int() }),
    });
    const result = await run(worker, 'x', { engine });
    expect(result.output).toEqual({ city: 'Kyoto', population: 1460000 });
    expect(model.requests[0]?.responseFormat).toMatchObject({ type: 'json-schema' });
    expect(model.requests[1]?.messages.at(-1)).toMatchObject({ role: 'user' });
    expect(JSON.stringify(model.requests[1]?.messages.at(-1))).toMatch(/population/);
    await engine.close();
  });

  it('resumes an interrupted run from its last committed step without repeating it', async () => {
    const engine = temporaryEngine();
    const executions: Array<{ a: number; b: number; key: string }> = [];
    const script: Script = {
      turns: [
        { toolCalls: [{ name: 'add', arguments: { a: 1, b: 1 } }] },
        { toolCalls: [{ name: 'block', arguments: {} }] },
        { text: 'finished' },
      ],
    };
    const controller = new AbortController();
    let blocked = 0;
    const block = tool({
      name: 'block',
      description: 'Blocks the first time.',
      input: z.object({}),
      execute: async (_input, context) => {
        blocked++;
        if (blocked === 1) {
          controller.abort();
          throw context.abortSignal.reason ?? new Error('aborted');
        }
        return 'unblocked';
      },
    });
    const firstModel = createScriptedModel({ script });
    const worker = agent({ name: 'a', instructions: '', model: firstModel, tools: [calculator(executions), block] });
    const handle = run(worker, 'x', { engine, signal: controller.signal });
    await expect(handle.result).rejects.toThrow(/interrupted/);
    expect((await engine.getRun(handle.runId))?.status).toBe('pending');
    expect((await engine.listSteps(handle.runId)).map((step) => step.name)).toEqual(['model', 'tool:add', 'model']);

    const secondModel = createScriptedModel({ script });
    const events: RunEvent[] = [];
    const result = await resume({ ...worker, model: secondModel }, handle.runId, {
      engine,
      onEvent: (event) => events.push(event),
    });
    expect(result).toMatchObject({ status: 'completed', output: 'finished' });
    expect(executions).toHaveLength(1); // add was committed before the interruption
    expect(secondModel.requests).toHaveLength(1); // only the last model turn was new
    expect(blocked).toBe(2); // the in-flight step ran again
    expect(events.filter((event) => event.type === 'step-start' && event.replayed)).toHaveLength(3);
    expect((await engine.listSteps(handle.runId)).map((step) => step.name)).toEqual([
      'model',
      'tool:add',
      'model',
      'tool:block',
      'model',
    ]);
    await engine.close();
  });

  it('raises a non-determinism error when replay reaches a different step than the journal holds', async () => {
    const engine = temporaryEngine();
    const script: Script = { turns: [{ toolCalls: [{ name: 'add', arguments: { a: 1, b: 1 } }] }, { text: 'ok' }] };
    const first = await run(
      agent({ name: 'a', instructions: '', model: createScriptedModel({ script }), tools: [calculator()] }),
      'x',
      { engine },
    );
    await engine.reopenRun(first.runId);
    // The tool was renamed in the agent's code; the recorded call `add` now resolves to `Add`.
    const renamed = tool({
      name: 'Add',
      description: 'Add.',
      input: z.object({ a: z.number(), b: z.number() }),
      execute: () => 0,
    });
    const handle = resume(
      agent({ name: 'a', instructions: '', model: createScriptedModel({ script }), tools: [renamed] }),
      first.runId,
      { engine },
    );
    await expect(handle.result).rejects.toThrow(NonDeterminismError);
    await expect(handle.result).rejects.toThrow(/recorded as "tool:add" but replay reached "tool:Add"/);
    await engine.close();
  });

  it('records a failed model call in the journal and rejects with a clear error', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({
      script: { turns: [{ toolCalls: [{ name: 'add', arguments: { a: 1, b: 2 } }] }] },
    });
    const handle = run(agent({ name: 'a', instructions: '', model, tools: [calculator()] }), 'x', { engine });
    await expect(handle.result).rejects.toThrow(/script has 1 turns/);
    expect(await engine.getRun(handle.runId)).toMatchObject({ status: 'failed', stopReason: 'script_invalid' });
    await engine.close();
  });

  it('returns a finished run from the journal on resume without executing anything', async () => {
    const engine = temporaryEngine();
    const model = createScriptedModel({ script: { turns: [{ text: 'final' }] } });
    const worker = agent({ name: 'a', instructions: '', model });
    const first = await run(worker, 'x', { engine });
    const again = await resume(worker, first.runId, { engine });
    expect(again).toMatchObject({ status: 'completed', output: 'final' });
    expect(model.requests).toHaveLength(1);
    await engine.close();
  });

  it('calls the model again when its stream breaks mid-way, and says so', async () => {
    const chunk = (delta: object, finish: string | null = null) => ({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const server = await startFakeOpenAIServer([
      streamReply(sseBody([chunk({ role: 'assistant', content: 'Hal' })], { done: false }), { ending: 'destroy' }),
      streamReply(sseBody([chunk({ role: 'assistant', content: 'Hello' }), chunk({}, 'stop')])),
    ]);
    const engine = temporaryEngine();
    try {
      const model = createOpenAIModel({ modelId: 'gpt-4o-mini', baseURL: server.baseURL, apiKey: 'sk-test' });
      const events: RunEvent[] = [];
      const result = await run(agent({ name: 'a', instructions: '', model }), 'hi', {
        engine,
        onEvent: (event) => events.push(event),
      });
      expect(result).toMatchObject({ status: 'completed', output: 'Hello' });
      expect(server.requests).toHaveLength(2);
      expect(events.filter((event) => event.type === 'warning')).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/Calling the model again/) }),
      ]);
      expect(await engine.listSteps(result.runId)).toHaveLength(1);
    } finally {
      await engine.close();
      await server.close();
    }
  });

  it('makes earlier steps durable before a tool with an effect runs, and not before an effect-free one', async () => {
    const engine = temporaryEngine();
    const order: string[] = [];
    const observed: Engine = {
      ...engine,
      sync() {
        order.push('sync');
        return engine.sync();
      },
      commitStep(step, options) {
        order.push(options?.durable ? `durable-commit:${step.name}` : `commit:${step.name}`);
        return engine.commitStep(step, options);
      },
    };
    const look = tool({ name: 'look', description: 'Read.', input: z.object({}), execute: () => order.push('look') });
    const pay = tool({
      name: 'pay',
      description: 'Pay.',
      input: z.object({}),
      effect: 'side-effect',
      execute: () => order.push('pay'),
    });
    const model = createScriptedModel({
      script: {
        turns: [
          { toolCalls: [{ name: 'look', arguments: {} }] },
          { toolCalls: [{ name: 'pay', arguments: {} }] },
          { text: 'paid' },
        ],
      },
    });
    await run(agent({ name: 'a', instructions: '', model, tools: [look, pay] }), 'x', { engine: observed });
    expect(order).toEqual([
      'commit:model',
      'look',
      'commit:tool:look',
      'commit:model',
      'sync',
      'pay',
      'durable-commit:tool:pay',
      'commit:model',
    ]);
    await engine.close();
  });

  describe('tool policies and approvals', () => {
    function payments(paid: number[]) {
      return tool({
        name: 'pay',
        description: 'Pay an amount.',
        input: z.object({ amount: z.number() }),
        effect: 'side-effect',
        execute: ({ amount }) => {
          paid.push(amount);
          return `paid ${amount}`;
        },
      });
    }
    const payScript = (amount: number): Script => ({
      turns: [{ toolCalls: [{ name: 'pay', arguments: { amount } }] }, { text: 'done' }],
    });
    const askAbove100 = [{ tool: 'pay', action: 'ask' as const, when: { path: 'amount', gt: 100 } }];

    it('runs a call that no policy stops without asking', async () => {
      const engine = temporaryEngine();
      const paid: number[] = [];
      const worker = agent({
        name: 'a',
        instructions: '',
        model: createScriptedModel({ script: payScript(50) }),
        tools: [payments(paid)],
        policies: askAbove100,
      });
      expect((await run(worker, 'x', { engine })).status).toBe('completed');
      expect(paid).toEqual([50]);
      expect(await engine.listApprovals()).toEqual([]);
      await engine.close();
    });

    it('pauses durably for approval, and continues with the call once approved', async () => {
      const engine = temporaryEngine();
      const paid: number[] = [];
      const worker = agent({
        name: 'a',
        instructions: '',
        model: createScriptedModel({ script: payScript(250) }),
        tools: [payments(paid)],
        policies: askAbove100,
      });
      const events: RunEvent[] = [];
      const first = await run(worker, 'x', { engine, onEvent: (event) => events.push(event) });
      expect(first).toMatchObject({ status: 'waiting', stopReason: 'approval-required' });
      expect(first.approvals?.[0]).toMatchObject({ toolName: 'pay', input: { amount: 250 }, status: 'pending' });
      expect(first.approvals?.[0]?.reason).toMatch(/amount > 100/);
      expect(paid).toEqual([]);
      expect(events.some((event) => event.type === 'approval-requested')).toBe(true);
      expect((await engine.getRun(first.runId))?.status).toBe('waiting');

      await engine.decideApproval({ runId: first.runId, outcome: 'approve', actor: 'aiko' });
      const second = await resume({ ...worker, model: createScriptedModel({ script: payScript(250) }) }, first.runId, {
        engine,
      });
      expect(second).toMatchObject({ status: 'completed', output: 'done' });
      expect(paid).toEqual([250]);
      await engine.close();
    });

    it('tells the model when a person denies the call, and never runs it', async () => {
      const engine = temporaryEngine();
      const paid: number[] = [];
      const model = createScriptedModel({ script: payScript(900) });
      const worker = agent({ name: 'a', instructions: '', model, tools: [payments(paid)], policies: askAbove100 });
      const first = await run(worker, 'x', { engine });
      await engine.decideApproval({ runId: first.runId, outcome: 'deny', actor: 'ben', note: 'over budget' });
      const denialModel = createScriptedModel({ script: payScript(900) });
      const second = await resume({ ...worker, model: denialModel }, first.runId, { engine });
      expect(second.status).toBe('completed');
      expect(paid).toEqual([]);
      const told = denialModel.requests[0]?.messages.at(-1);
      expect(told).toMatchObject({ role: 'tool', isError: true });
      expect(told?.role === 'tool' && told.content).toMatch(/denied by ben: over budget/);
      await engine.close();
    });

    it('waits in the same process when asked to poll, and continues when the decision arrives', async () => {
      const engine = temporaryEngine();
      const paid: number[] = [];
      const worker = agent({
        name: 'a',
        instructions: '',
        model: createScriptedModel({ script: payScript(300) }),
        tools: [payments(paid)],
        policies: askAbove100,
      });
      const handle = run(worker, 'x', {
        engine,
        approvalWait: 'poll',
        approvalPollMs: 10,
        onEvent: (event) => {
          if (event.type === 'approval-requested') {
            setTimeout(() => void engine.decideApproval({ runId: event.runId, outcome: 'approve', actor: 'aiko' }), 30);
          }
        },
      });
      expect(await handle).toMatchObject({ status: 'completed' });
      expect(paid).toEqual([300]);
      await engine.close();
    });

    it('applies the default outcome when the deadline passes', async () => {
      const engine = temporaryEngine();
      const paid: number[] = [];
      const worker = agent({
        name: 'a',
        instructions: '',
        model: createScriptedModel({ script: payScript(300) }),
        tools: [payments(paid)],
        policies: [{ tool: 'pay', action: 'ask', deadlineMs: 20, defaultOutcome: 'approve' }],
      });
      const result = await run(worker, 'x', { engine, approvalWait: 'poll', approvalPollMs: 10 });
      expect(result.status).toBe('completed');
      expect(paid).toEqual([300]);
      const audit = await engine.listAudit({ runId: result.runId });
      expect(audit.map((entry) => [entry.action, entry.actor])).toEqual([
        ['approval-requested', 'policy'],
        ['approved', 'system'],
      ]);
      await engine.close();
    });

    it('refuses a call a policy denies, with the reason, and audits it', async () => {
      const engine = temporaryEngine();
      const paid: number[] = [];
      const model = createScriptedModel({ script: payScript(10) });
      const worker = agent({
        name: 'a',
        instructions: '',
        model,
        tools: [payments(paid)],
        policies: [{ tool: '*', action: 'deny', reason: 'read-only mode' }],
      });
      const result = await run(worker, 'x', { engine });
      expect(paid).toEqual([]);
      const told = model.requests[1]?.messages.at(-1);
      expect(told?.role === 'tool' && told.content).toMatch(/not allowed here \(read-only mode\)/);
      expect((await engine.listAudit({ runId: result.runId })).map((entry) => entry.action)).toEqual(['policy-denied']);
      await engine.close();
    });
  });

  describe('context control', () => {
    it('sends large tool results as a handle and a preview, keeping the full result in the workspace', async () => {
      const engine = temporaryEngine();
      const workspace = mkdtempSync(join(tmpdir(), 'hataraku-context-'));
      const big = tool({
        name: 'dump',
        description: 'Returns a lot of text.',
        input: z.object({}),
        execute: () => Array.from({ length: 3000 }, (_, line) => `line ${line}: ${'x'.repeat(20)}`).join('\n'),
      });
      const model = createScriptedModel({
        script: { turns: [{ toolCalls: [{ name: 'dump', arguments: {} }] }, { text: 'read it' }] },
      });
      const result = await run(agent({ name: 'a', instructions: '', model, tools: [big] }), 'x', {
        engine,
        workspace,
        context: offloadLargeToolResults({ maxCharacters: 2000, previewCharacters: 300 }),
      });
      expect(result.status).toBe('completed');
      const seen = model.requests[1]?.messages.at(-1);
      expect(seen?.role === 'tool' && seen.content.length).toBeLessThan(2000);
      const handle =
        seen?.role === 'tool' ? /\.hataraku-results\/tool-results\/\S+\.txt/.exec(seen.content)?.[0] : undefined;
      expect(handle).toBeDefined();
      expect(readFileSync(join(workspace, handle ?? ''), 'utf8')).toMatch(/line 2999: x+$/);
      // The journal keeps the full result: the strategy changes only what is sent.
      const toolStep = (await engine.listSteps(result.runId)).find((step) => step.kind === 'tool');
      expect(String((toolStep?.output as { content?: string } | undefined)?.content)).toMatch(/line 2999: x+$/);
      await engine.close();
    });

    it('stops before a request that would pass the input-token limit', async () => {
      const engine = temporaryEngine();
      const model = createScriptedModel({ script: { turns: [{ text: 'never' }] } });
      const result = await run(agent({ name: 'a', instructions: 'Be brief.', model }), 'word '.repeat(500), {
        engine,
        maxInputTokens: 100,
      });
      expect(result).toMatchObject({ status: 'stopped', stopReason: 'context-too-large' });
      expect(model.requests).toHaveLength(0);
      await engine.close();
    });
  });

  it('gives a run with tools a workspace of its own when none is given, and keeps it on resume', async () => {
    const engine = temporaryEngine();
    let seen: string | undefined;
    const where = tool({
      name: 'where',
      description: 'Says where the workspace is.',
      input: z.object({}),
      execute: (_input, context) => {
        seen = context.workspace;
        return 'ok';
      },
    });
    const model = createScriptedModel({
      script: { turns: [{ toolCalls: [{ name: 'where', arguments: {} }] }, { text: 'done' }] },
    });
    const result = await run(agent({ name: 'a', instructions: '', model, tools: [where] }), 'x', { engine });
    expect(seen).toBeDefined();
    expect(statSync(seen ?? '').isDirectory()).toBe(true);
    expect((await engine.getRun(result.runId))?.workspace).toBe(seen);
    await engine.close();
  });
});
