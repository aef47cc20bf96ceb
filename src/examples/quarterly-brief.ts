/**
 * The quarterly-brief example: a task that needs decomposition. A Q3 brief draws on three data
 * files (sales, support tickets, a customer survey) and two documents (goals, incidents). The
 * lead agent plans it with `plan_and_run`: four analysts work in parallel, each as a child run
 * with its own files and slice of the budget; a writer builds the brief on their results; a
 * checker verifies it against the task. `quarterlyBriefSingleAgent()` is the same task done by
 * one agent, for the comparison in `examples/quarterly-brief/README.md`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Agent, agent } from '../agent/agent.js';
import { planAndRunTool } from '../decomposition/plan-and-run-tool.js';
import { createDataTools } from '../toolchain/data/data-tools.js';
import { workspaceFileTools } from '../toolchain/files/workspace-files.js';
import type { Tool } from '../tools/tool.js';
import type { ExampleDefinition } from './example-definition.js';

/** `../../examples/quarterly-brief` from both `src/examples` and `dist/examples`. */
export const quarterlyBriefDirectory = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'examples',
  'quarterly-brief',
);

export const quarterlyBriefTask =
  'Write a brief of Q3 2026 from sales.csv, support.csv and survey.csv, measured against the targets in goals.md and explained with incidents.md: revenue by region and against target, support resolution time, the net promoter score, and what affected the quarter.';

export const quarterlyBriefInstructions = [
  'You lead a team of agents in a workspace directory. Split the task into steps with plan_and_run: one step per data file or document, given to the agent for it with the files it needs, and a writing step that depends on them.',
  'Steps that do not depend on each other run in parallel. If a step or the check fails, plan again for what is missing.',
  'When the plan is done and checked, reply with a short final answer: where the brief is and its main findings.',
].join('\n');

const analystInstructions = (file: string) =>
  [
    `You analyse ${file} in your workspace. Look at it with data.describe, then answer with SQL through data.query.`,
    'Every number you report must come from a query result. Reply with the figures asked for, in one short paragraph.',
  ].join('\n');

/** The team's agents; `model` gives each one's model (default: its scripted demo model). */
export function quarterlyBriefAgents(model?: string): { team: Agent[]; checker: Agent } {
  const modelFor = (name: string) => model ?? `scripted:${join(quarterlyBriefDirectory, 'agents', `${name}.json`)}`;
  const limits = { maxSteps: 6 };
  const analyst = (name: string, file: string) =>
    agent({
      name,
      instructions: analystInstructions(file),
      model: modelFor(name),
      tools: createDataTools(),
      limits,
    });
  return {
    team: [
      analyst('sales-analyst', 'sales.csv'),
      analyst('support-analyst', 'support.csv'),
      analyst('survey-analyst', 'survey.csv'),
      agent({
        name: 'docs-reader',
        instructions: 'You read documents in your workspace with files.read and report what the task asks, briefly.',
        model: modelFor('docs-reader'),
        tools: workspaceFileTools(),
        limits,
      }),
      agent({
        name: 'writer',
        instructions:
          'You write Markdown documents with files.write from the results you are given; use only the figures given.',
        model: modelFor('writer'),
        tools: workspaceFileTools(),
        limits,
      }),
    ],
    checker: agent({
      name: 'checker',
      instructions:
        'You check work against its goal: read what was produced with files.read, then answer PASS or FAIL first, then why.',
      model: modelFor('checker'),
      tools: workspaceFileTools(),
      limits,
    }),
  };
}

function decomposedTools(model?: string): Tool[] {
  const { team, checker } = quarterlyBriefAgents(model);
  return [planAndRunTool({ agents: team, checker, maxReplans: 1 })];
}

export function quarterlyBriefExample(): ExampleDefinition {
  return {
    name: 'quarterly-brief',
    description:
      'Decomposition: a lead plans a Q3 brief over three data files and two documents; four analysts run in parallel as child runs, a writer and a checker follow.',
    task: quarterlyBriefTask,
    instructions: quarterlyBriefInstructions,
    tools: decomposedTools(),
    toolsFor: (model) => decomposedTools(model),
    limits: { maxSteps: 6 },
    workspaceSource: join(quarterlyBriefDirectory, 'workspace'),
    demoModelPath: join(quarterlyBriefDirectory, 'demo-model.json'),
    expectedOutputs: ['tasks/1-brief/brief.md'],
  };
}

/** The same task for one agent with every tool, and its scripted demo model, for the comparison. */
export function quarterlyBriefSingleAgent(model?: string): Agent {
  return agent({
    name: 'quarterly-brief-single',
    instructions: [
      'You are a data analyst working in a workspace directory. Look at each data file with data.describe, then answer with SQL through data.query; every number must come from a query result.',
      'Read documents with files.read. Write the brief in Markdown with files.write to brief.md, then reply with a short final answer.',
    ].join('\n'),
    model: model ?? `scripted:${join(quarterlyBriefDirectory, 'single-agent-model.json')}`,
    tools: [...createDataTools(), ...workspaceFileTools()],
    limits: { maxSteps: 12 },
  });
}
