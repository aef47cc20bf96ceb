/**
 * Plan, execute, check: the model's plan runs as child runs (independent steps in parallel, a
 * step after the steps it depends on, with their answers), a checker verifies the results, the
 * progress is published as `plan-update` events, and re-planning after a failure is bounded.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import type { RunEvent } from '../agent/events.js';
import { resume, run } from '../agent/run.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel, type Script } from '../models/scripted/scripted-model.js';
import type { ModelRequest } from '../models/spec.js';
import { tool } from '../tools/define-tool.js';
import { planAndRunTool, verdictOf } from './plan-and-run-tool.js';

function setup() {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-plan-'));
  const workspace = join(directory, 'workspace');
  mkdirSync(workspace);
  return { workspace, engine: openSqliteEngine({ path: join(directory, 'journal.db') }) };
}

function answering(name: string, turns: Script['turns'], limits = {}) {
  const model = createScriptedModel({ script: { turns } });
  return { agent: agent({ name, instructions: `The ${name}.`, model, limits }), model };
}

function toolOutputs(steps: Array<{ kind: string; output: unknown }>) {
  return steps.filter((step) => step.kind === 'tool').map((step) => step.output as { ok: boolean; content: string });
}

function lastUserText(requests: readonly ModelRequest[]): string {
  const messages = requests[0]?.messages ?? [];
  const user = messages.filter((message) => message.role === 'user').at(-1);
  return typeof user?.content === 'string' ? user.content : JSON.stringify(user?.content);
}

describe('plan_and_run', () => {
  it('runs independent steps in parallel, feeds dependants, checks, and reports progress', async () => {
    const { workspace, engine } = setup();
    const sales = answering('sales', [{ text: 'Revenue 1.2M', delayMs: 30 }]);
    const support = answering('support', [{ text: '340 tickets', delayMs: 30 }]);
    const writer = answering('writer', [{ text: 'Brief: revenue 1.2M, 340 tickets.' }]);
    const checker = answering('checker', [{ text: 'PASS: both figures are in the brief.' }]);
    const lead = agent({
      name: 'lead',
      instructions: 'Plan.',
      model: createScriptedModel({
        script: {
          turns: [
            {
              toolCalls: [
                {
                  name: 'plan_and_run',
                  arguments: {
                    steps: [
                      { id: 'sales', agent: 'sales', task: 'Total revenue?' },
                      { id: 'support', agent: 'support', task: 'Ticket count?' },
                      { id: 'brief', agent: 'writer', task: 'Write the brief.', dependsOn: ['sales', 'support'] },
                    ],
                  },
                },
              ],
            },
            { text: 'Brief: revenue 1.2M, 340 tickets.' },
          ],
        },
      }),
      tools: [planAndRunTool({ agents: [sales.agent, support.agent, writer.agent], checker: checker.agent })],
    });
    const events: RunEvent[] = [];
    const result = await run(lead, 'Write a brief of revenue and tickets.', {
      engine,
      workspace,
      runId: 'run_plan',
      onEvent: (event) => events.push(event),
    });
    expect(result.status).toBe('completed');

    const children = (await engine.listChildRuns('run_plan')).map((child) => child.id);
    expect(children).toEqual(['run_plan.1.sales', 'run_plan.1.support', 'run_plan.1.brief', 'run_plan.1.check']);
    // The two independent steps overlapped; the brief started after both ended.
    const at = (type: string, runId: string) =>
      events.findIndex((event) => event.type === type && event.runId === runId);
    expect(at('run-start', 'run_plan.1.support')).toBeLessThan(at('run-end', 'run_plan.1.sales'));
    expect(at('run-start', 'run_plan.1.brief')).toBeGreaterThan(at('run-end', 'run_plan.1.support'));
    // The dependant was given the answers of the steps it builds on; the checker the goal.
    expect(lastUserText(writer.model.requests)).toMatch(
      /- sales \(sales\): Revenue 1\.2M\n- support \(support\): 340 tickets/,
    );
    expect(lastUserText(checker.model.requests)).toMatch(/Goal: Write a brief of revenue and tickets\./);

    const output = JSON.parse(toolOutputs(await engine.listSteps('run_plan'))[0]?.content ?? '{}');
    expect(output).toMatchObject({ attempt: 1, status: 'done', check: { pass: true, runId: 'run_plan.1.check' } });
    expect(output.steps.map((step: { status: string }) => step.status)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);

    const updates = events.filter((event) => event.type === 'plan-update');
    expect(updates.length).toBeGreaterThan(4);
    expect(updates.at(-1)).toMatchObject({
      runId: 'run_plan',
      stepIndex: 1,
      steps: [
        { id: 'sales', status: 'completed' },
        { id: 'support', status: 'completed' },
        { id: 'brief', status: 'completed' },
        { id: 'check', status: 'completed', runId: 'run_plan.1.check' },
      ],
    });
    await engine.close();
  });

  it('skips the steps after a failed one and allows at most maxReplans new plans', async () => {
    const { workspace, engine } = setup();
    // One model call allowed, but the script needs two: the child stops at max-steps.
    const flaky = answering('flaky', [{ toolCalls: [{ name: 'missing', arguments: {} }] }, { text: 'never' }], {
      maxSteps: 1,
    });
    const after = answering('after', [{ text: 'unused' }]);
    // Each new plan words the first step differently (a model re-planning would).
    const call = (attempt: number) => ({
      name: 'plan_and_run',
      arguments: {
        steps: [
          { id: 'first', agent: 'flaky', task: `Try, attempt ${attempt}.` },
          { id: 'second', agent: 'after', task: 'Then.', dependsOn: ['first'] },
        ],
      },
    });
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: createScriptedModel({
        script: {
          turns: [{ toolCalls: [call(1)] }, { toolCalls: [call(2)] }, { toolCalls: [call(3)] }, { text: 'Gave up.' }],
        },
      }),
      tools: [planAndRunTool({ agents: [flaky.agent, after.agent], maxReplans: 1 })],
    });
    const result = await run(lead, 'Do it.', { engine, workspace, runId: 'run_replan' });
    expect(result.output).toBe('Gave up.');
    const outputs = toolOutputs(await engine.listSteps('run_replan'));
    expect(outputs.map((output) => output.ok)).toEqual([true, true, false]);
    const first = JSON.parse(outputs[0]?.content ?? '{}');
    expect(first).toMatchObject({ attempt: 1, status: 'failed', replansLeft: 1 });
    expect(first.steps.map((step: { status: string }) => step.status)).toEqual(['failed', 'skipped']);
    expect(JSON.parse(outputs[1]?.content ?? '{}')).toMatchObject({ attempt: 2, status: 'failed', replansLeft: 0 });
    expect(outputs[2]?.content).toMatch(/already run 2 times, the most allowed/);
    // Each plan's steps are child runs of their own; the third call started none.
    expect((await engine.listChildRuns('run_replan')).map((child) => child.id)).toEqual([
      'run_replan.1.first',
      'run_replan.3.first',
    ]);
    await engine.close();
  });

  it('refuses a plan with a cycle or an unknown dependency before running anything', async () => {
    const { workspace, engine } = setup();
    const solo = answering('solo', [{ text: 'x' }]);
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: createScriptedModel({
        script: {
          turns: [
            {
              toolCalls: [
                {
                  name: 'plan_and_run',
                  arguments: {
                    steps: [
                      { id: 'a', agent: 'solo', task: 'a', dependsOn: ['b'] },
                      { id: 'b', agent: 'solo', task: 'b', dependsOn: ['a'] },
                    ],
                  },
                },
                {
                  name: 'plan_and_run',
                  arguments: { steps: [{ id: 'a', agent: 'solo', task: 'a', dependsOn: ['zzz'] }] },
                },
              ],
            },
            { text: 'ok' },
          ],
        },
      }),
      tools: [planAndRunTool({ agents: [solo.agent] })],
    });
    await run(lead, 'x', { engine, workspace, runId: 'run_bad_plan' });
    const outputs = toolOutputs(await engine.listSteps('run_bad_plan'));
    expect(outputs[0]?.content).toMatch(/steps a, b depend on each other in a cycle/);
    expect(outputs[1]?.content).toMatch(/depends on "zzz", which is not a step of the plan/);
    expect(await engine.listChildRuns('run_bad_plan')).toEqual([]);
    await engine.close();
  });

  it('reads a verdict from text or an object', () => {
    expect(verdictOf('PASS: fine')).toEqual({ pass: true, notes: 'PASS: fine' });
    expect(verdictOf('Fail: the total is missing').pass).toBe(false);
    expect(verdictOf({ pass: false, notes: 'no chart' })).toEqual({ pass: false, notes: 'no chart' });
  });

  it('pauses the plan on an approval inside a step, and resumes it without rerunning the others', async () => {
    const { workspace, engine } = setup();
    const send = tool({
      name: 'send',
      description: 'Send.',
      input: z.object({ to: z.string() }),
      effect: 'side-effect',
      execute: ({ to }) => `sent to ${to}`,
    });
    const mailer = agent({
      name: 'mailer',
      instructions: '',
      model: createScriptedModel({
        script: { turns: [{ toolCalls: [{ name: 'send', arguments: { to: 'ana' } }] }, { text: 'sent' }] },
      }),
      tools: [send],
      policies: [{ tool: 'send', action: 'ask', reason: 'mail' }],
    });
    const counter = answering('counter', [{ text: '7' }]);
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: createScriptedModel({
        script: {
          turns: [
            {
              toolCalls: [
                {
                  name: 'plan_and_run',
                  arguments: {
                    steps: [
                      { id: 'count', agent: 'counter', task: 'Count.' },
                      { id: 'mail', agent: 'mailer', task: 'Mail ana.' },
                    ],
                  },
                },
              ],
            },
            { text: 'Counted 7 and mailed ana.' },
          ],
        },
      }),
      tools: [planAndRunTool({ agents: [counter.agent, mailer] })],
    });
    const first = await run(lead, 'Count and mail.', { engine, workspace, runId: 'run_plan_ask' });
    expect(first.status).toBe('waiting');
    expect(first.approvals?.map((approval) => approval.runId)).toEqual(['run_plan_ask.1.mail']);
    expect((await engine.getRun('run_plan_ask.1.count'))?.status).toBe('completed');

    await engine.decideApproval({ runId: 'run_plan_ask.1.mail', outcome: 'approve', actor: 'aiko' });
    const second = await resume(lead, 'run_plan_ask', { engine });
    expect(second).toMatchObject({ status: 'completed', output: 'Counted 7 and mailed ana.' });
    expect(counter.model.requests).toHaveLength(1); // the finished step was read back, not run again
    await engine.close();
  });

  it('starts a step as soon as the steps it depends on are done, not after the whole wave', async () => {
    const { workspace, engine } = setup();
    const quick = answering('quick', [{ text: 'quick done', delayMs: 5 }]);
    const slow = answering('slow', [{ text: 'slow done', delayMs: 800 }]);
    const next = answering('next', [{ text: 'next done', delayMs: 5 }]);
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: createScriptedModel({
        script: {
          turns: [
            {
              toolCalls: [
                {
                  name: 'plan_and_run',
                  arguments: {
                    steps: [
                      { id: 'quick', agent: 'quick', task: 'q' },
                      { id: 'slow', agent: 'slow', task: 's' },
                      { id: 'next', agent: 'next', task: 'n', dependsOn: ['quick'] },
                    ],
                  },
                },
              ],
            },
            { text: 'ok' },
          ],
        },
      }),
      tools: [planAndRunTool({ agents: [quick.agent, slow.agent, next.agent] })],
    });
    const events: RunEvent[] = [];
    await run(lead, 'go', { engine, workspace, runId: 'run_eager', onEvent: (event) => events.push(event) });
    const at = (type: string, runId: string) =>
      events.findIndex((event) => event.type === type && event.runId === runId);
    expect(at('run-end', 'run_eager.1.next')).toBeGreaterThan(-1);
    expect(at('run-end', 'run_eager.1.next')).toBeLessThan(at('run-end', 'run_eager.1.slow'));
    await engine.close();
  });
});
