/**
 * One delegated task end to end: the child's workspace view, its run (started, resumed or read
 * back), and what the parent sees of it: the child's final answer, status, cost and files.
 * Shared by `delegate` and `plan_and_run`.
 */

import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { Agent } from '../agent/agent.js';
import { type ChildRuns, childRunId } from '../agent/child-runs.js';
import type { StopReason } from '../agent/stop-reason.js';
import type { JsonValue } from '../models/spec.js';
import { prepareWorkspaceView, type WorkspaceMode } from './workspace-view.js';

export interface DelegatedTask {
  stepIndex: number;
  key?: string;
  agent: Agent;
  task: string;
  files: readonly string[];
  budgetUsd?: number | undefined;
  workspaceMode: WorkspaceMode;
  parentWorkspace: string | undefined;
}

/** What the parent's model sees of a delegated task (the tool result, as JSON). */
export interface DelegatedResult {
  [key: string]: JsonValue;
  agent: string;
  runId: string;
  /** `completed`, `stopped` (a limit ended it: see stopReason), or `refused` (no budget left). */
  status: string;
  stopReason: StopReason;
  /** The child's final answer (text or its structured output). */
  answer: JsonValue;
  /** Files the child recorded as artifacts, as paths in the parent's workspace where they are visible there. */
  artifacts: string[];
  costUsd: number;
  /** The slice of the parent's cost limit the child was given, when there is one. */
  budgetUsd: number | null;
}

export async function runDelegatedTask(childRuns: ChildRuns, task: DelegatedTask): Promise<DelegatedResult> {
  const runId = childRunId(childRuns.parentRunId, task.stepIndex, task.key);
  const folderName = task.key === undefined ? `${task.stepIndex}-${task.agent.name}` : `${task.stepIndex}-${task.key}`;
  const workspace = prepareWorkspaceView({
    mode: task.workspaceMode,
    parentWorkspace: task.parentWorkspace,
    childRunId: runId,
    folderName: folderName.replace(/[^A-Za-z0-9._-]/g, '_'),
    files: task.files,
  });
  const outcome = await childRuns.start({
    stepIndex: task.stepIndex,
    ...(task.key !== undefined ? { key: task.key } : {}),
    agent: task.agent,
    input: task.task,
    workspace,
    budgetUsd: task.budgetUsd,
  });
  if (outcome.kind === 'refused') {
    return {
      agent: task.agent.name,
      runId,
      status: 'refused',
      stopReason: 'budget-exceeded',
      answer: `Not delegated: ${outcome.reason}`,
      artifacts: [],
      costUsd: 0,
      budgetUsd: null,
    };
  }
  const childWorkspace = (await childRuns.engine.getRun(runId))?.workspace;
  return {
    agent: task.agent.name,
    runId,
    status: outcome.result.status,
    stopReason: outcome.result.stopReason,
    answer: outcome.result.output ?? null,
    artifacts: outcome.artifacts.map((artifact) => visiblePath(task.parentWorkspace, childWorkspace, artifact.path)),
    costUsd: outcome.result.totals.costUsd,
    budgetUsd: outcome.slice.costUsd ?? null,
  };
}

/** An artifact's path as the parent sees it: relative to its workspace when inside it. */
function visiblePath(parent: string | undefined, child: string | undefined, path: string): string {
  if (parent === undefined || child === undefined) return path;
  const relation = relative(realpathSync(parent), join(realpathSync(child), path));
  return relation.startsWith('..') || isAbsolute(relation) ? path : relation;
}
