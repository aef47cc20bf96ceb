/**
 * The tree of a run and the runs it delegated to, with each node's status, cost and time, for
 * `hataraku runs show ID --tree` (text and JSON), and the pending approvals anywhere in it (so a
 * person can decide a child's approval through its parent).
 */
import type { ApprovalRecord, Engine, RunRecord } from '../engine/engine.js';
import { UserError } from '../errors.js';

export interface RunTreeNode {
  runId: string;
  agentName: string;
  status: RunRecord['status'];
  stopReason: string | null;
  /** This run's own model and tool calls. */
  modelCalls: number;
  toolCalls: number;
  /** This run's own known cost. */
  costUsd: number;
  /** This run's cost with all of its descendants'. */
  treeCostUsd: number;
  /** Model calls whose cost is unknown, in the whole subtree. */
  unpricedModelCalls: number;
  startedAt: number;
  /** From start to the end, or to the last committed step of a run still open. */
  durationMs: number;
  /** The slice of the parent's cost limit this run was given, when it had one. */
  maxCostUsd: number | null;
  task: string;
  children: RunTreeNode[];
}

/** Load the tree under `runId`; undefined when there is no such run. */
export async function loadRunTree(engine: Engine, runId: string): Promise<RunTreeNode | undefined> {
  const run = await engine.getRun(runId);
  return run ? nodeOf(engine, run) : undefined;
}

async function nodeOf(engine: Engine, run: RunRecord): Promise<RunTreeNode> {
  const [totals, childRecords, steps] = await Promise.all([
    engine.totals(run.id),
    engine.listChildRuns(run.id),
    engine.listSteps(run.id),
  ]);
  const children = await Promise.all(childRecords.map((child) => nodeOf(engine, child)));
  const limits = (run.spec as { limits?: { maxCostUsd?: number } } | null)?.limits;
  return {
    runId: run.id,
    agentName: run.agentName,
    status: run.status,
    stopReason: run.stopReason ?? null,
    modelCalls: totals.modelCalls,
    toolCalls: totals.toolCalls,
    costUsd: totals.costUsd,
    treeCostUsd: totals.costUsd + children.reduce((sum, child) => sum + child.treeCostUsd, 0),
    unpricedModelCalls: totals.unpricedModelCalls + children.reduce((sum, child) => sum + child.unpricedModelCalls, 0),
    startedAt: run.createdAt,
    // A run in progress changes its record only at the end: its last step tells how far it got.
    durationMs: Math.max(run.updatedAt, ...steps.map((step) => step.finishedAt)) - run.createdAt,
    maxCostUsd: limits?.maxCostUsd ?? null,
    task: run.input,
    children,
  };
}

/** The tree drawn as text, one line per run. */
export function formatRunTree(root: RunTreeNode, formatUsd: (amount: number) => string): string {
  const lines: string[] = [];
  const visit = (node: RunTreeNode, prefix: string, connector: string, childPrefix: string) => {
    const cost =
      node.children.length > 0
        ? `${formatUsd(node.treeCostUsd)} (own ${formatUsd(node.costUsd)})`
        : formatUsd(node.costUsd);
    const slice = node.maxCostUsd !== null ? ` of ${formatUsd(node.maxCostUsd)}` : '';
    const unknown = node.unpricedModelCalls > 0 ? ' +?' : '';
    const reason = node.stopReason ? ` (${node.stopReason})` : '';
    lines.push(
      `${prefix}${connector}${node.runId}  ${node.agentName}  ${node.status}${reason}  ${cost}${slice}${unknown}  ${formatSeconds(node.durationMs)}  ${node.modelCalls} model + ${node.toolCalls} tool calls  ${shorten(node.task, 50)}`,
    );
    node.children.forEach((child, position) => {
      const last = position === node.children.length - 1;
      visit(child, prefix + childPrefix, last ? '└─ ' : '├─ ', last ? '   ' : '│  ');
    });
  };
  visit(root, '', '', '');
  return `${lines.join('\n')}\n`;
}

/** Pending approvals of a run and of every run under it. */
export async function pendingApprovalsInTree(engine: Engine, runId: string): Promise<ApprovalRecord[]> {
  const own = await engine.listApprovals({ runId, status: 'pending' });
  const below = await Promise.all(
    (await engine.listChildRuns(runId)).map((child) => pendingApprovalsInTree(engine, child.id)),
  );
  return [...own, ...below.flat()];
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function shorten(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= limit ? flat : `${flat.slice(0, limit - 1)}…`;
}

/**
 * The run a decision without a step number is about: the run itself when it waits for an
 * approval, else the one run under it that does (a delegated task's tool call surfaces on its
 * parent). Several waiting children: the person names the child run.
 */
export async function decisionTarget(engine: Engine, runId: string): Promise<string> {
  const pending = await pendingApprovalsInTree(engine, runId);
  if (pending.length === 0 || pending.some((approval) => approval.runId === runId)) return runId;
  const runs = [...new Set(pending.map((approval) => approval.runId))];
  if (runs.length === 1) return runs[0] as string;
  throw new UserError(
    'usage',
    `run ${runId} waits for approvals in ${runs.length} delegated runs (${runs.join(', ')}); decide one by its run id, e.g. \`hataraku runs approve ${runs[0]}\`.`,
  );
}
