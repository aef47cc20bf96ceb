/** `hataraku/config`: `hataraku.config.json` and the environment, loaded and validated. */
export type {
  ConnectorsConfig,
  McpServerSettings,
  OpenApiAuthSettings,
  OpenApiSettings,
} from './connectors-settings.js';
export { type HatarakuConfig, loadConfig, type ToolsConfig } from './load-config.js';
