/**
 * Hataraku as an MCP server: each configured agent is a tool (input: the task; output: the
 * final answer, with the run id, status and cost), and, when asked for, the built-in tools
 * themselves, under the same policies as in a run (a tool a policy denies or asks approval for
 * is refused here, since no person can approve inside a tool call). While an agent runs, the
 * client gets a progress notification per finished step; cancelling the request cancels the run.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool as McpTool,
} from '@modelcontextprotocol/sdk/types.js';
import { decideToolCall } from '../../agent/policy.js';
import { cliPolicies, cliTools } from '../../cli/cli-agent.js';
import { HatarakuError } from '../../errors.js';
import type { Hataraku } from '../../hataraku.js';
import { prepareToolCall } from '../../tools/prepare-call.js';
import type { Tool } from '../../tools/tool.js';
import { createToolContext } from '../../tools/tool-context.js';
import type { AgentCatalog } from '../agent-catalog.js';
import { keyAllows } from '../keys/key-store.js';
import type { RunService } from '../run-service.js';

export interface McpServerOptions {
  hataraku: Hataraku;
  agents: AgentCatalog;
  runs: RunService;
  /** Tenant the runs are recorded under. */
  tenant: string | undefined;
  /** Agent names allowed (a key's list); undefined: all. */
  allowedAgents?: string[] | undefined;
  /** Also expose the enabled built-in tools, run in this workspace directory. */
  builtinToolsWorkspace?: string | undefined;
  version: string;
}

/** The MCP tool name of an agent: `agent_<name>`, with characters MCP hosts reject replaced. */
export function agentToolName(agentName: string): string {
  return `agent_${agentName.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

const agentOutputSchema = {
  type: 'object' as const,
  properties: {
    runId: { type: 'string' },
    status: { type: 'string', enum: ['completed', 'stopped', 'waiting'] },
    stopReason: { type: 'string' },
    answer: { type: 'string' },
    costUsd: { type: 'number' },
  },
  required: ['runId', 'status', 'stopReason', 'answer', 'costUsd'],
};

export function createMcpServer(options: McpServerOptions): Server {
  const { hataraku, agents, runs } = options;
  const agentTools = new Map(
    agents
      .names()
      .filter((name) => keyAllows(options.allowedAgents, name))
      .map((name) => [agentToolName(name), name]),
  );
  const builtin = options.builtinToolsWorkspace === undefined ? new Map<string, Tool>() : cliTools(hataraku.config);
  const server = new Server(
    { name: 'hataraku', version: options.version },
    {
      capabilities: { tools: {} },
      instructions:
        'Each agent_* tool runs a Hataraku agent durably on a task and returns its final answer with the run id.',
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      ...[...agentTools].map(
        ([toolName, agentName]): McpTool => ({
          name: toolName,
          description: agents.describe(agentName),
          inputSchema: {
            type: 'object',
            properties: { task: { type: 'string', description: 'What the agent should do.' } },
            required: ['task'],
          },
          outputSchema: agentOutputSchema,
        }),
      ),
      ...[...builtin.values()].map(
        (tool): McpTool => ({
          name: tool.name,
          description: tool.description,
          inputSchema: { ...tool.inputSchema, type: 'object' },
          annotations: { readOnlyHint: tool.effect === 'none', idempotentHint: tool.effect !== 'side-effect' },
        }),
      ),
    ],
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const args = request.params.arguments ?? {};
    const agentName = agentTools.get(name);
    if (agentName !== undefined) {
      const task = args.task;
      if (typeof task !== 'string' || task.trim() === '') {
        return errorResult('"task" must be a non-empty string: what the agent should do.');
      }
      const progressToken = request.params._meta?.progressToken;
      let handle: ReturnType<RunService['start']>;
      try {
        handle = runs.start({ agent: agentName, input: task, tenant: options.tenant });
      } catch (error) {
        if (error instanceof HatarakuError) return errorResult(error.message);
        throw error;
      }
      const onAbort = () => void runs.cancel(handle.runId).catch(() => undefined);
      extra.signal.addEventListener('abort', onAbort, { once: true });
      let steps = 0;
      const progress = (async () => {
        for await (const event of handle.events) {
          if (event.type !== 'step-end' || progressToken === undefined) continue;
          steps++;
          await extra
            .sendNotification({
              method: 'notifications/progress',
              params: {
                progressToken,
                progress: steps,
                message: `run ${handle.runId}: step ${event.index} (${event.kind}) done`,
              },
            })
            .catch(() => undefined);
        }
      })();
      try {
        const result = await handle.result;
        await progress;
        const answer =
          result.status === 'waiting'
            ? `Run ${result.runId} is waiting for approval of ${result.approvals?.map((approval) => approval.toolName).join(', ') ?? 'a tool call'}; approve it with \`hataraku runs approve ${result.runId}\` or POST /runs/${result.runId}/approve.`
            : typeof result.output === 'string'
              ? result.output
              : JSON.stringify(result.output ?? null);
        return {
          content: [{ type: 'text', text: answer }],
          structuredContent: {
            runId: result.runId,
            status: result.status,
            stopReason: result.stopReason,
            answer,
            costUsd: result.totals.costUsd,
          },
        };
      } catch (error) {
        if (extra.signal.aborted) return errorResult(`run ${handle.runId} was cancelled.`);
        if (error instanceof HatarakuError) return errorResult(`run ${handle.runId} failed: ${error.message}`);
        throw error;
      } finally {
        extra.signal.removeEventListener('abort', onAbort);
      }
    }
    const tool = builtin.get(name);
    if (tool) return callBuiltinTool(tool, args, options, extra.signal);
    return errorResult(`no tool named "${name}"; list the tools with tools/list.`);
  });
  return server;
}

async function callBuiltinTool(
  tool: Tool,
  args: Record<string, unknown>,
  options: McpServerOptions,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const prepared = prepareToolCall([tool], { name: tool.name, arguments: JSON.stringify(args) });
  if (prepared.status === 'invalid') return errorResult(prepared.message);
  // The same policies as in a run, then the tool's own defaults (a request that sends data off
  // the allow-list asks, and so is refused here).
  const decision = decideToolCall(cliPolicies(options.hataraku.config), tool, prepared.input);
  if (decision.action !== 'allow') {
    return errorResult(
      `${tool.name} is not allowed here: a policy says "${decision.action}" (${decision.reason}); run it through an agent, where approvals apply.`,
    );
  }
  const context = createToolContext({
    ...(options.builtinToolsWorkspace ? { workspace: options.builtinToolsWorkspace } : {}),
    runId: 'mcp',
    abortSignal: signal,
  });
  try {
    const output = await tool.execute(prepared.input, context);
    return { content: [{ type: 'text', text: typeof output === 'string' ? output : JSON.stringify(output) }] };
  } catch (error) {
    if (error instanceof HatarakuError) return errorResult(error.message);
    return errorResult(`${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await context.dispose().catch(() => undefined);
  }
}

function errorResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
