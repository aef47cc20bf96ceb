/**
 * Choosing the sandbox tier from configuration and from what this machine offers: `process`
 * when asked for and usable, `wasm` when asked for, and for `auto` the process tier when
 * bubblewrap works here, else the wasm tier. The choice and its reason are reported.
 *
 * Python on the wasm tier holds only inside bubblewrap (see `pyodide-sandbox.ts`). Where
 * bubblewrap does not work, `auto` offers JavaScript (QuickJS) but not Python, and an explicit
 * `wasm` runs Python under Node's permission model only, with a typed warning.
 */
import { UserError } from '../../errors.js';
import {
  createProcessSandbox,
  type ProcessSandboxOptions,
  probeProcessTier,
  processSandboxDescription,
} from './process-sandbox.js';
import type { PyodideConfinement } from './pyodide-sandbox.js';
import type { Sandbox, SandboxDescription, SandboxTier } from './sandbox.js';
import { createWasmSandbox, wasmSandboxDescription } from './wasm-sandbox.js';

export type SandboxTierOption = 'auto' | SandboxTier;

export interface SandboxOptions extends Omit<ProcessSandboxOptions, 'workspace'> {
  /** Which tier to use; `auto` (default) prefers `process` when bubblewrap is usable. */
  tier?: SandboxTierOption;
}

/** Something the user should know about the chosen sandbox: it does not hold as well as it could. */
export interface SandboxWarning {
  /** `python-weak-isolation`: Python on the wasm tier without bubblewrap (Node's permission model only). */
  code: 'python-weak-isolation';
  message: string;
}

export interface SandboxChoice {
  tier: SandboxTier;
  requested: SandboxTierOption;
  /** Why this tier, in one sentence. */
  reason: string;
  description: SandboxDescription;
  /** On the wasm tier: how Python is fenced in, or why it is not offered. */
  python?: { confinement: PyodideConfinement } | { unavailable: string };
  warnings: SandboxWarning[];
}

/** Decide which tier `options` lead to on this machine, and why. */
export async function describeSandboxChoice(options: SandboxOptions = {}): Promise<SandboxChoice> {
  const requested = options.tier ?? 'auto';
  const probe = await probeProcessTier(options);
  const bubblewrapPath = options.bubblewrapPath ?? '/usr/bin/bwrap';
  if (requested === 'wasm') {
    if (probe.available) {
      return {
        tier: 'wasm',
        requested,
        reason: 'the wasm tier was configured',
        description: wasmSandboxDescription,
        python: { confinement: { kind: 'bubblewrap', bubblewrapPath } },
        warnings: [],
      };
    }
    return {
      tier: 'wasm',
      requested,
      reason: 'the wasm tier was configured',
      description: wasmSandboxDescription,
      python: { confinement: { kind: 'permission-model' } },
      warnings: [
        {
          code: 'python-weak-isolation',
          message: `Python on the wasm tier runs without bubblewrap here (${probe.reason}): only Node's permission model fences it in, which does not hold against hostile code. Install bubblewrap, or use the tier "auto" (Python is then not offered here).`,
        },
      ],
    };
  }
  if (probe.available) {
    return {
      tier: 'process',
      requested,
      reason: requested === 'process' ? 'the process tier was configured' : 'bubblewrap is usable on this machine',
      description: processSandboxDescription,
      warnings: [],
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
    python: {
      unavailable: `Python is not offered here: it needs bubblewrap to be isolated (${probe.reason}). Install bubblewrap (apt-get install bubblewrap), or set the sandbox tier to "wasm" to run it with weaker isolation; JavaScript works.`,
    },
    warnings: [],
  };
}

/** Create a sandbox of the chosen tier for `workspace`. */
export function createSandbox(
  choice: SandboxChoice,
  options: SandboxOptions & { workspace: string | undefined },
): Sandbox {
  const { tier: _tier, ...rest } = options;
  if (choice.tier === 'process') return createProcessSandbox(rest);
  const python = choice.python;
  if (python !== undefined && 'unavailable' in python) {
    return createWasmSandbox({ ...rest, pythonUnavailable: python.unavailable });
  }
  return createWasmSandbox(python === undefined ? rest : { ...rest, pythonConfinement: python.confinement });
}
