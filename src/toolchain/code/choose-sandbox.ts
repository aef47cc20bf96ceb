/**
 * Choosing the sandbox tier from configuration and from what this machine offers: `process`
 * when asked for and usable, `wasm` when asked for, and for `auto` the process tier when
 * bubblewrap works here, else the wasm tier. The choice and its reason are reported.
 */
import { UserError } from '../../errors.js';
import {
  createProcessSandbox,
  type ProcessSandboxOptions,
  probeProcessTier,
  processSandboxDescription,
} from './process-sandbox.js';
import type { Sandbox, SandboxDescription, SandboxTier } from './sandbox.js';
import { createWasmSandbox, wasmSandboxDescription } from './wasm-sandbox.js';

export type SandboxTierOption = 'auto' | SandboxTier;

export interface SandboxOptions extends Omit<ProcessSandboxOptions, 'workspace'> {
  /** Which tier to use; `auto` (default) prefers `process` when bubblewrap is usable. */
  tier?: SandboxTierOption;
}

export interface SandboxChoice {
  tier: SandboxTier;
  requested: SandboxTierOption;
  /** Why this tier, in one sentence. */
  reason: string;
  description: SandboxDescription;
}

/** Decide which tier `options` lead to on this machine, and why. */
export async function describeSandboxChoice(options: SandboxOptions = {}): Promise<SandboxChoice> {
  const requested = options.tier ?? 'auto';
  if (requested === 'wasm') {
    return { tier: 'wasm', requested, reason: 'the wasm tier was configured', description: wasmSandboxDescription };
  }
  const probe = await probeProcessTier(options);
  if (probe.available) {
    return {
      tier: 'process',
      requested,
      reason: requested === 'process' ? 'the process tier was configured' : 'bubblewrap is usable on this machine',
      description: processSandboxDescription,
    };
  }
  if (requested === 'process') {
    throw new UserError(
      'config_invalid',
      `The process sandbox tier was configured but is not usable here: ${probe.reason}. Install bubblewrap or set the tier to "wasm" or "auto".`,
      { details: { tier: requested } },
    );
  }
  return {
    tier: 'wasm',
    requested,
    reason: `the process tier is not usable (${probe.reason})`,
    description: wasmSandboxDescription,
  };
}

/** Create a sandbox of the chosen tier for `workspace`. */
export function createSandbox(
  choice: SandboxChoice,
  options: SandboxOptions & { workspace: string | undefined },
): Sandbox {
  const { tier: _tier, ...rest } = options;
  return choice.tier === 'process' ? createProcessSandbox(rest) : createWasmSandbox(rest);
}
