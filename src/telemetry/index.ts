/** `hataraku/telemetry`: OpenTelemetry traces and metrics for runs (GenAI semantic conventions). */
export { createRunTelemetry, type TelemetryOptions } from './run-telemetry.js';
