/**
 * What a bundled example is: a task, the instructions and tools of the agent that does it, the
 * workspace it starts from, a scripted demo model that plays a capable model's turns, and the
 * files a successful run leaves. The CLI (`hataraku example <name>`) and the tests run examples
 * from this description; the example's files live in the package's `examples/` folder.
 */
import type { AgentLimits } from '../agent/agent.js';
import type { ToolPolicy } from '../agent/policy.js';
import type { Tool } from '../tools/tool.js';

/** Services an example starts for its run (a local API, an MCP server) and the tools that reach them. */
export interface ExampleServices {
  tools: Tool[];
  policies: ToolPolicy[];
  /** Stop the services. */
  close(): Promise<void>;
}

export interface ExampleDefinition {
  /** Short name, e.g. `sales-report`. */
  readonly name: string;
  /** One line on what the example shows. */
  readonly description: string;
  /** The task given to the agent as its input. */
  readonly task: string;
  /** The agent's system prompt. */
  readonly instructions: string;
  /** The agent's tools, created fresh for this definition. */
  readonly tools: Tool[];
  /**
   * The tools when a model is configured, for examples whose tools hold agents of their own
   * (delegation): they then use that model instead of their scripted demo models.
   */
  readonly toolsFor?: (model: string) => Tool[];
  /** Limits for the example's run. */
  readonly limits: AgentLimits;
  /** Absolute path of the folder copied into a fresh run workspace; never written to. */
  readonly workspaceSource: string;
  /** Absolute path of the scripted demo model's script (`scripted:<path>`). */
  readonly demoModelPath: string;
  /** Files, relative to the run workspace, that a successful run produces. */
  readonly expectedOutputs: readonly string[];
  /** Start the services the example needs, for a run in `workspace`; their tools join `tools`. */
  readonly startServices?: (workspace: string) => Promise<ExampleServices>;
}
