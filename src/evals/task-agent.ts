/**
 * The agent, input, workspace and demo model of one suite task: a bundled example's, or built
 * from the task's instructions and tool groups. Rebuilt the same way on every resume, so a
 * resumed run gets the same agent it started with.
 */
import { resolve } from 'node:path';
import { type Agent, type AgentLimits, agent } from '../agent/agent.js';
import type { HatarakuConfig } from '../config/load-config.js';
import { examples } from '../examples/index.js';
import { builtinToolPolicies, protectedPathsFor, toolGroupFactories } from '../toolchain/builtin-tools.js';
import type { Tool } from '../tools/tool.js';
import type { EvalSuite, EvalTask } from './suite-schema.js';

export const defaultTaskInstructions = [
  'You are a careful worker in a workspace directory; paths are relative to it.',
  'Use the tools to look at the files before you answer; compute numbers with the data or code tools rather than in your head.',
  'Write any file the task asks for with files.write. End with a short final answer that states the result.',
].join('\n');

/** What an eval needs to run one task. */
export interface PreparedTask {
  task: EvalTask;
  input: string;
  /** Folder copied into the run's workspace, if any. */
  workspaceSource: string | undefined;
  /** Files written into the workspace. */
  files: Readonly<Record<string, string>>;
  /** The scripted demo model's script, for `--model demo`. */
  demoModelPath: string | undefined;
  /** The agent for a model name. */
  agentFor(model: string): Agent;
}

export function prepareTask(
  suite: EvalSuite,
  task: EvalTask,
  suiteDirectory: string,
  config: HatarakuConfig,
): PreparedTask {
  const example = task.example === undefined ? undefined : examples[task.example]?.();
  const fromSuite = (path: string | undefined): string | undefined =>
    path === undefined ? undefined : resolve(suiteDirectory, path);
  const limits = Object.fromEntries(
    Object.entries({ ...(example?.limits ?? {}), ...(suite.limits ?? {}), ...(task.limits ?? {}) }).filter(
      ([, value]) => value !== undefined,
    ),
  ) as AgentLimits;
  const toolsFor = (): Tool[] => {
    if (task.tools === undefined && example !== undefined) return example.tools;
    return (task.tools ?? ['files']).flatMap(
      (group) => toolGroupFactories[group]?.(config.tools, protectedPathsFor(config.tools)) ?? [],
    );
  };
  return {
    task,
    input: task.input ?? example?.task ?? '',
    workspaceSource: fromSuite(task.workspace) ?? example?.workspaceSource,
    files: task.files ?? {},
    demoModelPath: fromSuite(task.demoModel) ?? example?.demoModelPath,
    agentFor: (model) =>
      agent({
        name: `eval-${task.id}`,
        instructions: task.instructions ?? example?.instructions ?? defaultTaskInstructions,
        model,
        tools: toolsFor(),
        limits,
        // The config's policies, then the built-in tools' defaults, as in any other run.
        policies: [...config.policies, ...builtinToolPolicies(config.tools)],
      }),
  };
}
