/**
 * The agents a server can run: those named under `agents` in hataraku.config.json, and
 * `hataraku`, the CLI's general agent with the enabled built-in tools. A run recorded in the
 * journal is rebuilt from its spec, as `runs resume` does.
 */
import { type Agent, agent } from '../agent/agent.js';
import { agentFromSpec, cliInstructions, cliPolicies, cliTools, createCliAgent } from '../cli/cli-agent.js';
import type { HatarakuConfig } from '../config/load-config.js';
import type { RunRecord } from '../engine/engine.js';
import { UserError } from '../errors.js';
import type { Tool } from '../tools/tool.js';

export interface AgentCatalog {
  /** Agent names, in order. */
  names(): string[];
  /** A one-line description of an agent, for MCP tool lists and `/v1/models`. */
  describe(name: string): string;
  /** The agent named `name`; a `UserError` naming the known agents when there is none. */
  get(name: string): Agent;
  /** The agent to resume a recorded run with. */
  forRun(run: RunRecord): Agent;
}

export const defaultAgentName = 'hataraku';

export function createAgentCatalog(config: HatarakuConfig): AgentCatalog {
  const tools = cliTools(config);
  const built = new Map<string, Agent>();
  const names = [...new Set([...Object.keys(config.agents), defaultAgentName])];
  const modelFor = (name: string, configured: string | undefined): string => {
    const model = configured ?? config.model;
    if (!model) {
      throw new UserError(
        'model_not_configured',
        `agent "${name}" has no model: set "model" for it under "agents" or a default "model" in hataraku.config.json.`,
      );
    }
    return model;
  };
  // Own keys only: a request naming `toString` or `__proto__` must not find Object's prototype.
  const configured = (name: string) => (Object.hasOwn(config.agents, name) ? config.agents[name] : undefined);
  return {
    names: () => names,
    describe(name) {
      const entry = configured(name);
      if (entry?.description) return entry.description;
      if (name === defaultAgentName && !entry)
        return 'Hataraku: completes a task with the built-in tools over a workspace.';
      return `Runs the agent "${name}" on a task and returns its final answer.`;
    },
    get(name) {
      const cached = built.get(name);
      if (cached) return cached;
      const entry = configured(name);
      let created: Agent;
      if (entry) {
        const unknown = (entry.tools ?? []).filter((tool) => !tools.has(tool));
        if (unknown.length > 0) {
          throw new UserError(
            'config_invalid',
            `agent "${name}" names tools that are not enabled: ${unknown.join(', ')}; the enabled tools are ${[...tools.keys()].join(', ')}.`,
          );
        }
        created = agent({
          name,
          instructions: entry.instructions ?? cliInstructions,
          model: modelFor(name, entry.model),
          tools: (entry.tools ?? []).map((tool) => tools.get(tool) as Tool),
          limits: { ...config.limits, ...definedEntries(entry.limits ?? {}) },
          // The config's policies, then the built-in tools' defaults (sending data to a host off
          // the allow-list waits for approval), as for the default agent and a resumed run.
          policies: cliPolicies(config),
        });
      } else if (name === defaultAgentName) {
        created = createCliAgent({
          config,
          model: modelFor(name, undefined),
          limits: config.limits,
          policies: config.policies,
        });
      } else {
        throw new UserError('usage', `no agent named "${name}"; the agents are: ${names.join(', ')}.`);
      }
      built.set(name, created);
      return created;
    },
    forRun: (run) => agentFromSpec(run.spec, run.model, config),
  };
}

function definedEntries<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
