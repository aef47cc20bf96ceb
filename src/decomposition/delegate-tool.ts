/**
 * `delegate`: agents as tools. The model hands a task (and, optionally, files and a budget) to
 * one of the agents it was given; the task runs as a child run in the journal, with its own
 * steps, limits and workspace view, its cost rolled into the parent's, and its final answer and
 * files come back as the tool result. Several `delegate` calls in one turn run in parallel, up
 * to the parent agent's `maxToolConcurrency`.
 *
 * Re-running the call after a crash is safe: the child's id comes from the parent's id and the
 * step, so the call finds its child again (finished: its recorded answer; unfinished: resumed
 * from its own last committed step).
 */

import { z } from 'zod';
import type { Agent } from '../agent/agent.js';
import { childRunsOf } from '../agent/child-runs.js';
import { WorkspacePathError } from '../toolchain/files/workspace-path.js';
import { tool } from '../tools/define-tool.js';
import type { Tool } from '../tools/tool.js';
import { runDelegatedTask } from './delegated-task.js';
import { type WorkspaceMode, workspaceModes } from './workspace-view.js';

export interface DelegateToolOptions {
  /** The agents tasks can be handed to, by name. */
  agents: readonly Agent[];
  /** What a child's workspace is (default `sub-folder`; see `workspace-view.ts`). */
  workspace?: WorkspaceMode;
  /** Tool name (default `delegate`). */
  name?: string;
}

/** Create the `delegate` tool over `agents`. Throws a TypeError for no agents or two with one name. */
export function delegateTool(options: DelegateToolOptions): Tool {
  const names = agentNames(options.agents, 'delegateTool()');
  const mode = options.workspace ?? 'sub-folder';
  if (!workspaceModes.includes(mode)) {
    throw new TypeError(`delegateTool(): \`workspace\` must be one of ${workspaceModes.join(', ')}`);
  }
  const byName = new Map(options.agents.map((agent) => [agent.name, agent]));
  const roster = options.agents
    .map((agent) => `- ${agent.name}: ${agent.instructions.split('\n')[0]?.slice(0, 160) ?? ''}`)
    .join('\n');
  return tool({
    name: options.name ?? 'delegate',
    description: `Hand a self-contained task to another agent, which works on it in a run of its own and returns its final answer. Several calls in one turn run in parallel. The agents:\n${roster}`,
    input: z.object({
      agent: z.enum(names as [string, ...string[]]).describe('Which agent does the task.'),
      task: z.string().min(1).describe('The task, with everything the agent needs to know: it sees nothing else.'),
      files: z
        .array(z.string())
        .default([])
        .describe('Workspace files or folders the agent needs (copied into its own folder).'),
      budgetUsd: z.number().positive().optional().describe('Most USD the task may spend (capped by what is left).'),
    }),
    // Running the call again finds the same child run, so a repeat has the effect of once.
    effect: 'idempotent',
    async execute(input, context) {
      const childRuns = childRunsOf(context.childRuns);
      if (!childRuns) throw new Error('delegate works only inside a run (hataraku run or run()).');
      const agent = byName.get(input.agent) as Agent;
      try {
        return await runDelegatedTask(childRuns, {
          stepIndex: context.stepIndex,
          agent,
          task: input.task,
          files: input.files,
          budgetUsd: input.budgetUsd,
          workspaceMode: mode,
          parentWorkspace: context.workspace,
        });
      } catch (error) {
        if (error instanceof WorkspacePathError) throw new Error(`files: ${error.message}`);
        throw error;
      }
    },
  }) as unknown as Tool;
}

export function agentNames(agents: readonly Agent[], where: string): string[] {
  if (!Array.isArray(agents) || agents.length === 0)
    throw new TypeError(`${where}: \`agents\` must list at least one agent`);
  const names = agents.map((agent) => agent.name);
  const duplicate = names.find((name, position) => names.indexOf(name) !== position);
  if (duplicate !== undefined) throw new TypeError(`${where}: two agents are named "${duplicate}"`);
  return names;
}
