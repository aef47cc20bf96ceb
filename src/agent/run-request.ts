/**
 * The fixed part of every model request of a run (tools, tool choice, temperature, the output
 * schema, the prompt-cache key), and the check of a structured final answer against the schema.
 */
import type { JsonValue, ModelRequest, ModelToolDefinition } from '../models/spec.js';
import { dropNullOptionals } from '../models/strict-schema.js';
import { tool as defineTool } from '../tools/define-tool.js';
import { parseJsonText } from '../tools/repair/json-text.js';
import type { Tool } from '../tools/tool.js';
import type { Agent } from './agent.js';

/** Tool names sent to providers: OpenAI and Anthropic accept only letters, digits, `_` and `-`. */
export function modelFacingToolName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

export function toolDefinitions(tools: readonly Tool[]): ModelToolDefinition[] {
  return tools.map((tool) => ({
    name: modelFacingToolName(tool.name),
    description: tool.description,
    inputSchema: tool.inputSchema,
    ...(tool.strict === true ? { strict: true } : {}),
  }));
}

export function requestShapeFor(agent: Agent): {
  baseRequest: Omit<ModelRequest, 'messages'>;
  outputValidator: Tool | undefined;
  modelTools: ModelToolDefinition[];
} {
  const outputValidator =
    agent.output === undefined
      ? undefined
      : (defineTool({
          name: 'final_output',
          description: 'The final answer.',
          input: agent.output as never,
          execute: (value: unknown) => value,
        }) as Tool);
  const modelTools = toolDefinitions(agent.tools);
  const baseRequest: Omit<ModelRequest, 'messages'> = {
    maxOutputTokens: agent.maxOutputTokens,
    // One cache key per agent: its runs share the stable prefix (instructions, then tools).
    promptCacheKey: `hataraku:${agent.name}`,
    ...(modelTools.length > 0 ? { tools: modelTools } : {}),
    ...(agent.toolChoice !== undefined ? { toolChoice: agent.toolChoice } : {}),
    ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
    ...(outputValidator
      ? {
          // Strict where the provider enforces schemas while generating (OpenAI); providers
          // rewrite the schema for it or fall back with a warning.
          responseFormat: {
            type: 'json-schema' as const,
            name: 'final_output',
            schema: outputValidator.inputSchema,
            strict: true,
          },
        }
      : {}),
  };
  return { baseRequest, outputValidator, modelTools };
}

/** A final answer checked against the output schema: the value, or what to tell the model. */
export function checkFinalOutput(
  validator: Tool,
  text: string,
): { valid: true; value: JsonValue } | { valid: false; correction: string } {
  const parsed = parseJsonText(text);
  // Strict mode makes optional fields required and nullable; null there means "left out".
  const validation = parsed.success
    ? validator.validate(dropNullOptionals(parsed.value, validator.inputSchema))
    : undefined;
  if (validation?.success) return { valid: true, value: validation.data as JsonValue };
  const problems = !parsed.success
    ? `it is not JSON (${parsed.reason})`
    : (validation && !validation.success ? validation.issues : [])
        .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
        .join('; ');
  return {
    valid: false,
    correction: `Your final answer must be one JSON object matching the output schema, but ${problems}. Reply with the corrected JSON object only.`,
  };
}
