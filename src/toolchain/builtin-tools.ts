/**
 * The built-in toolchain, assembled from configuration: the tool groups the CLI agent (and any
 * agent that wants them) gets. Each group is created from its own typed options; nothing here
 * reads the environment (secrets arrive resolved in the config).
 */
import type { ToolsConfig } from '../config/load-config.js';
import type { Tool } from '../tools/tool.js';
import { createChartTools } from './charts/chart-tools.js';
import { createCodeTool } from './code/code-tool.js';
import { createDataTools } from './data/data-tools.js';
import { createDocumentTools } from './documents/doc-read-tool.js';
import { createFileTools } from './files/workspace-files.js';
import { createHttpTools } from './http/http-tools.js';

export type ToolGroup = 'files' | 'data' | 'documents' | 'http' | 'charts' | 'code';

/** Every group, in the order tools are listed to the model. */
export const toolGroups: readonly ToolGroup[] = ['files', 'data', 'documents', 'http', 'charts', 'code'];

/** Creates one group's tools from the tool settings. */
export type ToolGroupFactory = (settings: ToolsConfig) => Tool[];

/** How each group is made from the tool settings. */
export const toolGroupFactories: Partial<Record<ToolGroup, ToolGroupFactory>> = {
  files: () => createFileTools(),
  data: (settings) => createDataTools(settings.data),
  documents: () => createDocumentTools() as Tool[],
  http: (settings) => createHttpTools(settings.http),
  charts: () => createChartTools(),
  code: (settings) => [
    createCodeTool({
      ...(settings.code.tier ? { tier: settings.code.tier } : {}),
      ...(settings.code.timeoutMs ? { timeoutMs: settings.code.timeoutMs } : {}),
    }) as Tool,
  ],
};

/** The built-in tools of the enabled groups (every available group when none are named). */
export function createBuiltinTools(settings: ToolsConfig): Tool[] {
  const enabled = settings.enabled ?? toolGroups;
  return enabled.flatMap((group) => toolGroupFactories[group]?.(settings) ?? []);
}
