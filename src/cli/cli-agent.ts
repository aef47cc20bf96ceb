/**
 * The agent the CLI runs: general instructions, the built-in toolchain as configured, and
 * limits from config and flags. A resumed run is rebuilt from the spec its journal entry recorded.
 */
import { type Agent, type AgentLimits, agent } from '../agent/agent.js';
import type { ToolPolicy } from '../agent/policy.js';
import type { HatarakuConfig } from '../config/load-config.js';
import { combineTools, type LoadedConnectors } from '../connectors/connectors.js';
import { UserError } from '../errors.js';
import type { JsonValue } from '../models/spec.js';
import { builtinToolPolicies, createBuiltinTools } from '../toolchain/builtin-tools.js';
import type { Tool } from '../tools/tool.js';

export const cliInstructions = [
  'You are Hataraku, an agent that completes the task you are given, working in a workspace directory.',
  'Use the tools to look at and change files in the workspace (paths are relative to it), analyse data files with SQL, read documents, and call the web when allowed.',
  'Work step by step. When the task is done, reply with a short final answer saying what you did and where the results are.',
].join('\n');

/**
 * Tools the CLI can give an agent, by name: the enabled groups of the built-in toolchain, and
 * the tools of the configured connectors when they are loaded.
 */
export function cliTools(config: HatarakuConfig, connectors?: LoadedConnectors): Map<string, Tool> {
  const tools = combineTools(createBuiltinTools(config.tools), connectors?.tools ?? []);
  return new Map(tools.map((tool) => [tool.name, tool]));
}

/** The config's policies, then the connectors' defaults (ask before destructive calls). */
export function cliPolicies(config: HatarakuConfig, connectors?: LoadedConnectors): ToolPolicy[] {
  return [...config.policies, ...(connectors?.policies ?? []), ...builtinToolPolicies(config.tools)];
}

export function createCliAgent(init: {
  config: HatarakuConfig;
  name?: string;
  model: string;
  limits: AgentLimits;
  instructions?: string;
  policies?: ToolPolicy[];
  connectors?: LoadedConnectors;
}): Agent {
  return agent({
    name: init.name ?? 'hataraku',
    instructions: init.instructions ?? cliInstructions,
    model: init.model,
    tools: [...cliTools(init.config, init.connectors).values()],
    limits: init.limits,
    // The user's policies first (the first match decides), then the connectors' and the
    // built-in tools' defaults.
    policies: [
      ...(init.policies ?? []),
      ...(init.connectors?.policies ?? []),
      ...builtinToolPolicies(init.config.tools),
    ],
  });
}

/** Rebuild the agent of a recorded run from its spec, for `runs resume`. */
export function agentFromSpec(
  spec: JsonValue,
  fallbackModel: string,
  config: HatarakuConfig,
  connectors?: LoadedConnectors,
  /** Tools besides the built-in ones, e.g. a bundled example's; they win over built-ins of the same name. */
  extraTools: readonly Tool[] = [],
): Agent {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new UserError(
      'run_not_resumable',
      'this run has no agent description in the journal and cannot be resumed from the CLI.',
    );
  }
  const available = cliTools(config, connectors);
  for (const tool of extraTools) available.set(tool.name, tool);
  const toolNames = Array.isArray(spec.tools)
    ? spec.tools.filter((name): name is string => typeof name === 'string')
    : [];
  const missing = toolNames.filter((name) => !available.has(name));
  if (missing.length > 0) {
    throw new UserError(
      'run_not_resumable',
      `this run used tools the CLI does not have (${missing.join(', ')}); resume it from the program that started it.`,
    );
  }
  const limits =
    spec.limits !== null && typeof spec.limits === 'object' && !Array.isArray(spec.limits) ? spec.limits : {};
  return agent({
    name: typeof spec.name === 'string' ? spec.name : 'hataraku',
    instructions: typeof spec.instructions === 'string' ? spec.instructions : cliInstructions,
    model: typeof spec.model === 'string' ? spec.model : fallbackModel,
    tools: toolNames.map((name) => available.get(name) as Tool),
    limits: limits as AgentLimits,
    policies: cliPolicies(config, connectors),
    ...(typeof spec.maxOutputTokens === 'number' ? { maxOutputTokens: spec.maxOutputTokens } : {}),
    ...(typeof spec.temperature === 'number' ? { temperature: spec.temperature } : {}),
  });
}
