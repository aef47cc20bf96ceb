/**
 * The built-in toolchain, assembled from configuration: the tool groups the CLI agent (and any
 * agent that wants them) gets. Each group is created from its own typed options; nothing here
 * reads the environment (secrets arrive resolved in the config). Every group that touches the
 * workspace gets the same protected entries: the defaults plus `tools.protectedPaths`.
 */
import type { ToolPolicy } from '../agent/policy.js';
import type { ToolsConfig } from '../config/load-config.js';
import type { Tool } from '../tools/tool.js';
import { createChartTools } from './charts/chart-tools.js';
import { createCodeTool } from './code/code-tool.js';
import { createDataTools } from './data/data-tools.js';
import { createDocumentTools } from './documents/doc-read-tool.js';
import { createProtectedPaths, defaultProtectedPatterns, type ProtectedPaths } from './files/protected-paths.js';
import { createFileTools } from './files/workspace-files.js';
import { createHttpTools } from './http/http-tools.js';
import { sendAllowPolicy, sendApprovalPolicy } from './http/send-approval.js';

export type ToolGroup = 'files' | 'data' | 'documents' | 'http' | 'charts' | 'code';

/** Every group, in the order tools are listed to the model. */
export const toolGroups: readonly ToolGroup[] = ['files', 'data', 'documents', 'http', 'charts', 'code'];

/** Creates one group's tools from the tool settings and the protected entries. */
export type ToolGroupFactory = (settings: ToolsConfig, protectedPaths: ProtectedPaths) => Tool[];

/** How each group is made from the tool settings. */
export const toolGroupFactories: Partial<Record<ToolGroup, ToolGroupFactory>> = {
  files: (_settings, protectedPaths) => createFileTools({ protectedPaths }),
  data: (settings, protectedPaths) => createDataTools({ ...settings.data, protectedPaths }),
  documents: (_settings, protectedPaths) => createDocumentTools({ protectedPaths }) as Tool[],
  // http.request carries its send approval itself, with these sendAllowHosts.
  http: (settings) => createHttpTools(settings.http),
  charts: (_settings, protectedPaths) => createChartTools({ protectedPaths }),
  code: (settings, protectedPaths) => [
    createCodeTool({
      protectedPaths,
      ...(settings.code.tier ? { tier: settings.code.tier } : {}),
      ...(settings.code.timeoutMs ? { timeoutMs: settings.code.timeoutMs } : {}),
      ...(settings.code.maxWriteBytes ? { maxWriteBytes: settings.code.maxWriteBytes } : {}),
    }) as Tool,
  ],
};

/** The protected entries for these settings: the defaults, which cannot be removed, plus the configured ones. */
export function protectedPathsFor(settings: Pick<ToolsConfig, 'protectedPaths'>): ProtectedPaths {
  return createProtectedPaths([...defaultProtectedPatterns, ...(settings.protectedPaths ?? [])]);
}

/**
 * The policies that come with the built-in tools: with the http group on, a request that sends
 * data to a host off `tools.http.sendAllowHosts` waits for a person's approval. Put them after
 * the user's own policies (the first match decides), so an explicit user policy still wins.
 *
 * Kept for callers that list them: `http.request` now carries the approval itself
 * (`Tool.defaultPolicies`), so an agent gets it without these. Sends to the listed hosts are
 * allowed explicitly here, so they stay allowed even for a tool created without that list.
 */
export function builtinToolPolicies(settings: ToolsConfig): ToolPolicy[] {
  const enabled = settings.enabled ?? toolGroups;
  if (!enabled.includes('http')) return [];
  const hosts = settings.http.sendAllowHosts ?? [];
  return [...(hosts.length > 0 ? [sendAllowPolicy(hosts)] : []), sendApprovalPolicy(hosts)];
}

/** The built-in tools of the enabled groups (every available group when none are named). */
export function createBuiltinTools(settings: ToolsConfig): Tool[] {
  const enabled = settings.enabled ?? toolGroups;
  const protectedPaths = protectedPathsFor(settings);
  return enabled.flatMap((group) => toolGroupFactories[group]?.(settings, protectedPaths) ?? []);
}
