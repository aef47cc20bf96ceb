/**
 * A tool context for calling a tool outside a run: in tests, scripts, or another framework.
 * Artifacts are collected in `artifacts`; call `dispose()` to release run resources.
 */
import { createRunResources } from './run-resources.js';
import type { ArtifactInput, ToolContext } from './tool.js';

export interface StandaloneToolContext extends ToolContext {
  readonly artifacts: ArtifactInput[];
  dispose(): Promise<void>;
}

export function createToolContext(
  options: { workspace?: string; runId?: string; stepIndex?: number; abortSignal?: AbortSignal } = {},
): StandaloneToolContext {
  const runId = options.runId ?? 'standalone';
  const stepIndex = options.stepIndex ?? 0;
  const resources = createRunResources();
  const artifacts: ArtifactInput[] = [];
  return {
    runId,
    stepIndex,
    idempotencyKey: `${runId}:${stepIndex}`,
    toolCallId: `call_${stepIndex}`,
    abortSignal: options.abortSignal ?? new AbortController().signal,
    workspace: options.workspace,
    runResources: resources,
    recordArtifact: (artifact) => artifacts.push(artifact),
    artifacts,
    async dispose() {
      const errors = await resources.disposeAll();
      if (errors.length > 0) throw new AggregateError(errors, 'disposing tool resources failed');
    },
  };
}
