/**
 * `hataraku tools list [--json]`: every tool an agent started by `hataraku run` gets, built-in
 * and from connectors, with its source, effect and the policy that applies to its calls.
 */
import type { ToolPolicy } from '../../agent/policy.js';
import { protectedPathsFor, toolGroupFactories, toolGroups } from '../../toolchain/builtin-tools.js';
import { cliPolicies } from '../cli-agent.js';
import { loadCliConnectors } from '../cli-connectors.js';
import { type CliIo, openHataraku } from '../cli-context.js';

interface ToolListing {
  name: string;
  source: string;
  effect: string;
  policy: string;
}

export async function toolsListCommand(flags: { json?: boolean; config?: string }, io: CliIo): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  const connectors = await loadCliConnectors(hataraku.config, { strict: false });
  try {
    const config = hataraku.config;
    const policies = cliPolicies(config, connectors.loaded);
    const listings: ToolListing[] = [];
    for (const group of config.tools.enabled ?? toolGroups) {
      for (const tool of toolGroupFactories[group]?.(config.tools, protectedPathsFor(config.tools)) ?? []) {
        listings.push({
          name: tool.name,
          source: `builtin:${group}`,
          effect: tool.effect,
          policy: policyOf(policies, tool.name),
        });
      }
    }
    for (const entry of connectors.loaded?.tools ?? []) {
      listings.push({
        name: entry.tool.name,
        source: entry.source,
        effect: entry.tool.effect,
        policy: policyOf(policies, entry.tool.name),
      });
    }
    const failures = (connectors.loaded?.reports ?? []).filter((report) => report.error !== undefined);
    if (flags.json) {
      for (const listing of listings) io.stdout.write(`${JSON.stringify(listing)}\n`);
    } else {
      const width = Math.max(4, ...listings.map((listing) => listing.name.length));
      const sourceWidth = Math.max(6, ...listings.map((listing) => listing.source.length));
      for (const listing of listings) {
        io.stdout.write(
          `${listing.name.padEnd(width)}  ${listing.source.padEnd(sourceWidth)}  ${listing.effect.padEnd(11)}  ${listing.policy}\n`,
        );
      }
    }
    for (const report of failures)
      io.stderr.write(`hataraku: connector ${report.name} is unavailable: ${report.error}\n`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    await connectors.close();
    await hataraku.close();
  }
}

/** The policy for a tool's calls, in words: conditional policies first, then the one that always applies. */
function policyOf(policies: readonly ToolPolicy[], toolName: string): string {
  const parts: string[] = [];
  for (const policy of policies) {
    if (policy.tool !== '*' && policy.tool !== toolName) continue;
    if (policy.when === undefined) {
      parts.push(policy.action);
      return parts.join('; otherwise ');
    }
    const condition =
      typeof policy.when === 'function'
        ? 'a condition holds'
        : `${policy.when.path} matches ${JSON.stringify(policy.when)}`;
    parts.push(`${policy.action} when ${condition}`);
  }
  parts.push('allow');
  return parts.join('; otherwise ');
}
