/**
 * The connectors of the CLI's configuration, opened for one command and closed with it (MCP
 * servers are stopped when the command ends). Nothing is started when none are configured.
 */
import type { HatarakuConfig } from '../config/load-config.js';
import { type LoadedConnectors, openConnectors } from '../connectors/connectors.js';

export interface CliConnectors {
  /** Undefined when the configuration names no connectors. */
  loaded: LoadedConnectors | undefined;
  close(): Promise<void>;
}

/**
 * Open and load the connectors. With `strict`, a connector that fails is an error (a new run
 * should not start without tools it was configured with); without, its tools are just missing
 * (recovery then skips the runs that need them).
 */
export async function loadCliConnectors(config: HatarakuConfig, options: { strict: boolean }): Promise<CliConnectors> {
  if (config.connectors.mcp.length === 0 && config.connectors.openapi.length === 0) {
    return { loaded: undefined, close: async () => undefined };
  }
  const connectors = openConnectors(config.connectors);
  try {
    const loaded = options.strict ? await connectors.loadAll() : await connectors.load();
    return { loaded, close: () => connectors.close() };
  } catch (error) {
    await connectors.close();
    throw error;
  }
}
