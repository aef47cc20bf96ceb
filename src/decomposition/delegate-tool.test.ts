/**
 * `delegate`: agents as tools. Tasks handed to other agents run as child runs (deterministic
 * ids, own steps, own sub-folder), in parallel, with their cost rolled into the parent and their
 * answers and files returned as tool results; approvals inside a child surface on the parent;
 * one cost limit is shared by the tree.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import type { RunEvent } from '../agent/events.js';
import { resume, run } from '../agent/run.js';
import type { PriceSource } from '../cost/price-source.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel, type Script } from '../models/scripted/scripted-model.js';
import { workspaceFileTools } from '../toolchain/files/workspace-files.js';
import { tool } from '../tools/define-tool.js';
import { delegateTool } from './delegate-tool.js';

function setup() {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-delegate-'));
  const workspace = join(directory, 'workspace');
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'north.txt'), 'north: 120 units\n');
  writeFileSync(join(workspace, 'south.txt'), 'south: 80 units\n');
  return { directory, workspace, engine: openSqliteEngine({ path: join(directory, 'journal.db') }) };
}

/** The JSON a delegate step returned to the model. */
function toolResult(output: unknown) {
  return JSON.parse((output as { content?: string } | undefined)?.content ?? 'null');
}

function scripted(turns: Script['turns']) {
  return createScriptedModel({ script: { turns } });
}

/** A reader that reads `file` and answers with its line. */
function reader(name: string, file: string, answer: string) {
  return agent({
    name,
    instructions: `Read ${file} and report its number.`,
    model: scripted([
      { toolCalls: [{ name: 'files.read', arguments: { path: file } }], delayMs: 20 },
      { text: answer },
    ]),
    tools: workspaceFileTools(),
  });
}

describe('delegate', () => {
  it('runs two delegations of one turn as parallel child runs and returns their answers', async () => {
    const { workspace, engine } = setup();
    const north = reader('north-reader', 'north.txt', 'North sold 120 units.');
    const south = reader('south-reader', 'south.txt', 'South sold 80 units.');
    const lead = agent({
      name: 'lead',
      instructions: 'Split the work.',
      model: scripted([
        {
          toolCalls: [
            {
              name: 'delegate',
              arguments: { agent: 'north-reader', task: 'Units in north.txt?', files: ['north.txt'] },
            },
            {
              name: 'delegate',
              arguments: { agent: 'south-reader', task: 'Units in south.txt?', files: ['south.txt'] },
            },
          ],
        },
        { text: 'North 120, south 80: 200 units.' },
      ]),
      tools: [delegateTool({ agents: [north, south] })],
    });
    const events: RunEvent[] = [];
    const result = await run(lead, 'Total units?', {
      engine,
      workspace,
      runId: 'run_lead',
      onEvent: (event) => events.push(event),
    });
    expect(result.status).toBe('completed');
    expect(result.output).toBe('North 120, south 80: 200 units.');

    const children = await engine.listChildRuns('run_lead');
    expect(children.map((child) => child.id)).toEqual(['run_lead.1', 'run_lead.2']);
    expect(children.map((child) => child.status)).toEqual(['completed', 'completed']);
    // Each child worked in a sub-folder of the parent's workspace holding only its file.
    expect(children[0]?.workspace).toBe(join(workspace, 'tasks', '1-north-reader'));
    expect(existsSync(join(workspace, 'tasks', '1-north-reader', 'north.txt'))).toBe(true);
    expect(existsSync(join(workspace, 'tasks', '1-north-reader', 'south.txt'))).toBe(false);
    expect(await engine.listSteps('run_lead.1')).toHaveLength(3);

    // The parent's tool results are the children's answers.
    const steps = await engine.listSteps('run_lead');
    const delegated = toolResult(steps[1]?.output);
    expect(delegated).toMatchObject({
      agent: 'north-reader',
      runId: 'run_lead.1',
      status: 'completed',
      answer: 'North sold 120 units.',
    });
    // The children ran at the same time: the second started before the first ended.
    const starts = events.filter((event) => event.type === 'run-start').map((event) => event.runId);
    expect(starts).toEqual(['run_lead', 'run_lead.1', 'run_lead.2']);
    const firstChildEnd = events.findIndex((event) => event.type === 'run-end' && event.runId === 'run_lead.1');
    const secondChildStart = events.findIndex((event) => event.type === 'run-start' && event.runId === 'run_lead.2');
    expect(secondChildStart).toBeLessThan(firstChildEnd);
    await engine.close();
  });

  it('refuses files outside the workspace and links out of it, as a tool error', async () => {
    const { directory, workspace, engine } = setup();
    writeFileSync(join(directory, 'secret.txt'), 'secret');
    symlinkSync(join(directory, 'secret.txt'), join(workspace, 'link.txt'));
    const north = reader('north-reader', 'north.txt', 'unused');
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: scripted([
        {
          toolCalls: [
            { name: 'delegate', arguments: { agent: 'north-reader', task: 'x', files: ['../secret.txt'] } },
            { name: 'delegate', arguments: { agent: 'north-reader', task: 'y', files: ['link.txt'] } },
          ],
        },
        { text: 'cannot' },
      ]),
      tools: [delegateTool({ agents: [north] })],
    });
    await run(lead, 'try', { engine, workspace, runId: 'run_escape' });
    const outputs = (await engine.listSteps('run_escape'))
      .filter((step) => step.kind === 'tool')
      .map((step) => step.output as { ok: boolean; content: string });
    expect(outputs.map((output) => output.ok)).toEqual([false, false]);
    expect(outputs[0]?.content).toMatch(/outside the workspace/);
    expect(outputs[1]?.content).toMatch(/link that points outside/);
    expect(await engine.listChildRuns('run_escape')).toEqual([]);
    await engine.close();
  });

  it('surfaces a child approval on the parent, which waits and finishes after the decision', async () => {
    const { workspace, engine } = setup();
    const sent: string[] = [];
    const send = tool({
      name: 'send',
      description: 'Send a message.',
      input: z.object({ to: z.string() }),
      effect: 'side-effect',
      execute: ({ to }) => {
        sent.push(to);
        return `sent to ${to}`;
      },
    });
    const mailer = agent({
      name: 'mailer',
      instructions: 'Send mail.',
      model: scripted([{ toolCalls: [{ name: 'send', arguments: { to: 'ana' } }] }, { text: 'Mail sent to ana.' }]),
      tools: [send],
      policies: [{ tool: 'send', action: 'ask', reason: 'mail leaves the company' }],
    });
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: scripted([
        { toolCalls: [{ name: 'delegate', arguments: { agent: 'mailer', task: 'Mail ana.' } }] },
        { text: 'Done: mail sent.' },
      ]),
      tools: [delegateTool({ agents: [mailer] })],
    });
    const events: RunEvent[] = [];
    const first = await run(lead, 'Mail ana', {
      engine,
      workspace,
      runId: 'run_ask',
      onEvent: (event) => events.push(event),
    });
    expect(first.status).toBe('waiting');
    expect(first.approvals?.map((approval) => [approval.runId, approval.toolName])).toEqual([['run_ask.1', 'send']]);
    expect((await engine.getRun('run_ask'))?.status).toBe('waiting');
    expect(events.some((event) => event.type === 'approval-requested' && event.runId === 'run_ask.1')).toBe(true);
    expect(sent).toEqual([]);

    await engine.decideApproval({ runId: 'run_ask.1', outcome: 'approve', actor: 'aiko' });
    const second = await resume(lead, 'run_ask', { engine });
    expect(second.status).toBe('completed');
    expect(second.output).toBe('Done: mail sent.');
    expect(sent).toEqual(['ana']);
    await engine.close();
  });

  it('shares one cost limit: a child gets a slice, its cost rolls up, the rest flows back', async () => {
    const { workspace, engine } = setup();
    // $1 per thousand tokens both ways: each scripted call (1,000 + 100 tokens) costs $1.10.
    const prices: PriceSource = { lookup: () => ({ inputPerMillion: 1000, outputPerMillion: 1000, source: 'test' }) };
    const worker = agent({
      name: 'worker',
      instructions: '',
      maxOutputTokens: 100,
      model: scripted([{ text: 'ok', usage: { inputTokens: 1000, outputTokens: 100 } }]),
    });
    const lead = agent({
      name: 'lead',
      instructions: '',
      maxOutputTokens: 100,
      limits: { maxCostUsd: 10 },
      model: scripted([
        {
          toolCalls: [{ name: 'delegate', arguments: { agent: 'worker', task: 'go', budgetUsd: 3 } }],
          usage: { inputTokens: 1000, outputTokens: 100 },
        },
        { text: 'all done', usage: { inputTokens: 1000, outputTokens: 100 } },
      ]),
      tools: [delegateTool({ agents: [worker] })],
    });
    const result = await run(lead, 'go', { engine, workspace, runId: 'run_slice', prices });
    expect(result.status).toBe('completed');
    const child = await engine.getRun('run_slice.1');
    expect((child?.spec as { limits?: { maxCostUsd?: number } } | undefined)?.limits?.maxCostUsd).toBe(3);
    const delegated = toolResult((await engine.listSteps('run_slice'))[1]?.output);
    expect(delegated.budgetUsd).toBe(3);
    expect(delegated.costUsd).toBeCloseTo(1.1, 6);
    // The tree's spend (the parent's two calls and the child's one) is in the run's roll-up,
    // and no reservation is left behind.
    expect(await engine.spentUsd({ scope: 'run', key: 'run_slice', since: 0, limitUsd: 10 })).toBeCloseTo(3.3, 6);
    const probe = await engine.reserveBudget({
      runId: 'run_slice',
      stepIndex: 99,
      amountUsd: 10 - 3.3 - 1e-9,
      budgets: [{ scope: 'run', key: 'run_slice', since: 0, limitUsd: 10 }],
      ttlMs: 1000,
    });
    expect(probe.ok).toBe(true);
    await engine.close();
  });

  it('shares the token limit: children get even slices, and their tokens count for the parent', async () => {
    const { workspace, engine } = setup();
    const heavy = (name: string) =>
      agent({
        name,
        instructions: '',
        model: scripted([{ text: `${name} done`, usage: { inputTokens: 4800, outputTokens: 100 } }]),
      });
    const lead = agent({
      name: 'lead',
      instructions: '',
      maxToolConcurrency: 2,
      limits: { maxTokens: 10_000 },
      model: scripted([
        {
          toolCalls: [
            { name: 'delegate', arguments: { agent: 'left', task: 'go' } },
            { name: 'delegate', arguments: { agent: 'right', task: 'go' } },
          ],
          usage: { inputTokens: 50, outputTokens: 50 },
        },
        { text: 'never reached' },
      ]),
      tools: [delegateTool({ agents: [heavy('left'), heavy('right')] })],
    });
    const result = await run(lead, 'go', { engine, workspace, runId: 'run_tokens' });
    const slices = (await engine.listChildRuns('run_tokens')).map(
      (child) => (child.spec as { limits?: { maxTokens?: number } } | undefined)?.limits?.maxTokens,
    );
    // 10,000 minus the parent's 100, halved for two at once: 4,950 each.
    expect(slices).toEqual([4950, 4950]);
    // The children's 9,800 tokens and the parent's 100 leave no room for the parent's next call.
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'max-tokens' });
    await engine.close();
  });

  it("returns the child's artifacts as paths in the parent's workspace", async () => {
    const { workspace, engine } = setup();
    const make = tool({
      name: 'make',
      description: 'Write out.txt.',
      input: z.object({}),
      effect: 'idempotent',
      execute: (_input, context) => {
        writeFileSync(join(context.workspace as string, 'out.txt'), 'made');
        context.recordArtifact({ path: 'out.txt', mediaType: 'text/plain' });
        return 'made out.txt';
      },
    });
    const maker = agent({
      name: 'maker',
      instructions: '',
      model: scripted([{ toolCalls: [{ name: 'make', arguments: {} }] }, { text: 'Made out.txt.' }]),
      tools: [make],
    });
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: scripted([
        { toolCalls: [{ name: 'delegate', arguments: { agent: 'maker', task: 'Make it.' } }] },
        { text: 'done' },
      ]),
      tools: [delegateTool({ agents: [maker] })],
    });
    await run(lead, 'make', { engine, workspace, runId: 'run_artifact' });
    const delegated = toolResult((await engine.listSteps('run_artifact'))[1]?.output);
    expect(delegated.artifacts).toEqual(['tasks/1-maker/out.txt']);
    expect(existsSync(join(workspace, 'tasks', '1-maker', 'out.txt'))).toBe(true);
    await engine.close();
  });
});
