/** `hataraku/decomposition`: agents as tools (`delegate`), plans run by steps, and the run tree. */
export { type ChildRunOutcome, type ChildRuns, ChildRunWaitingError, childRunId } from '../agent/child-runs.js';
export { type DelegateToolOptions, delegateTool } from './delegate-tool.js';
export { type PlanAndRunToolOptions, planAndRunTool } from './plan-and-run-tool.js';
export { loadRunTree, type RunTreeNode } from './run-tree.js';
export type { WorkspaceMode } from './workspace-view.js';
