/**
 * An MCP server's tools as Hataraku tools, named `<server>.<tool>`. Their JSON Schemas are
 * compiled and checked like any tool's (so arguments are validated and repaired before a call);
 * a schema that does not compile leaves the tool out, with the reason.
 *
 * Annotations become effects: `readOnlyHint` is a read (`none`); `idempotentHint` without
 * `destructiveHint` is `idempotent`; anything else, including no hints at all, is a
 * `side-effect`, made durable before it runs. Tools that may destroy (`destructiveHint`, or no
 * `readOnlyHint`, as the MCP spec defaults) are subject to the server's `destructive` policy.
 *
 * Results: text parts are joined; `structuredContent` is given as JSON; images and audio are
 * saved in the workspace (and recorded as artifacts) with their path in the text, since a tool
 * result is text; `isError` results become failed tool calls the model is told to correct.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { JsonSchema } from '../../models/spec.js';
import { tool } from '../../tools/define-tool.js';
import type { Tool, ToolContext, ToolEffect } from '../../tools/tool.js';
import type { ConnectorTool, SkippedOperation } from '../connector-tool.js';
import { withoutPatterns } from '../schema-patterns.js';
import { connectorToolNames } from '../tool-names.js';
import type { McpConnection } from './mcp-connection.js';

/**
 * Longest tool definition (description and input schema, as JSON) taken from a server, in
 * characters. Every model call carries every tool's definition: a server listing a 1 MB
 * description would add about 250,000 tokens to each call of the run.
 */
export const maxToolDefinitionCharacters = 32_000;

export interface McpToolSet {
  tools: ConnectorTool[];
  skipped: SkippedOperation[];
}

/** The effect an MCP tool's annotations declare. */
export function effectOfAnnotations(annotations: McpTool['annotations']): ToolEffect {
  if (annotations?.readOnlyHint === true) return 'none';
  if (annotations?.idempotentHint === true && annotations.destructiveHint === false) return 'idempotent';
  return 'side-effect';
}

/** Whether the MCP spec counts the tool as possibly destructive (its defaults: not read-only, destructive). */
export function isDestructive(annotations: McpTool['annotations']): boolean {
  return annotations?.readOnlyHint !== true && annotations?.destructiveHint !== false;
}

export async function createMcpTools(connection: McpConnection): Promise<McpToolSet> {
  const settings = connection.settings;
  const listed = (await connection.listTools()).filter(
    (candidate) =>
      (settings.include === undefined || settings.include.includes(candidate.name)) &&
      !(settings.exclude ?? []).includes(candidate.name),
  );
  const names = connectorToolNames(
    settings.name,
    listed.map((candidate) => candidate.name),
  );
  const tools: ConnectorTool[] = [];
  const skipped: SkippedOperation[] = [];
  for (const [position, mcpTool] of listed.entries()) {
    const name = names[position] as string;
    const effect = effectOfAnnotations(mcpTool.annotations);
    const readOnly = effect === 'none';
    const hints = [
      readOnly ? 'reads only' : isDestructive(mcpTool.annotations) ? 'may change or delete things' : 'changes things',
      mcpTool.annotations?.idempotentHint === true ? 'idempotent' : undefined,
    ].filter((hint) => hint !== undefined);
    const description = [
      mcpTool.title ?? mcpTool.annotations?.title,
      mcpTool.description?.trim() || `The ${mcpTool.name} tool of the MCP server ${settings.name}.`,
      `(MCP server ${settings.name}; ${hints.join(', ')}.)`,
    ]
      .filter((part) => part !== undefined && part !== '')
      .join(' ');
    const definitionCharacters = description.length + JSON.stringify(mcpTool.inputSchema ?? {}).length;
    if (definitionCharacters > maxToolDefinitionCharacters) {
      skipped.push({
        operation: mcpTool.name,
        reason: `its definition (description and input schema) is ${definitionCharacters} characters, over the ${maxToolDefinitionCharacters} that a tool may take: every model call would carry it`,
      });
      continue;
    }
    try {
      const defined = tool<Record<string, unknown>, string>({
        name,
        description,
        input: inputSchemaOf(mcpTool),
        effect,
        execute: async (input, context) => {
          const result = await connection.callTool(mcpTool.name, input, {
            signal: context.abortSignal,
            readOnly,
            idempotencyKey: readOnly ? undefined : context.idempotencyKey,
          });
          const text = await resultText(result, context, name);
          const redacted = redact(text, settings.secretValues);
          if (result.isError === true) throw new Error(redacted);
          return redacted;
        },
      });
      tools.push({
        tool: defined as Tool,
        source: `mcp:${settings.name}`,
        operation: mcpTool.name,
        destructive: isDestructive(mcpTool.annotations),
      });
    } catch (error) {
      skipped.push({ operation: mcpTool.name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { tools, skipped };
}

function inputSchemaOf(mcpTool: McpTool): JsonSchema {
  // The server's regular expressions are stated, not run by the host (see schema-patterns.ts).
  const schema = withoutPatterns(structuredClone(mcpTool.inputSchema)) as JsonSchema;
  // MCP tools declare objects; servers that leave `properties` out mean "no arguments".
  if (schema.properties === undefined) schema.properties = {};
  return schema;
}

/** The text the model reads for a tool result. */
async function resultText(result: CallToolResult, context: ToolContext, toolName: string): Promise<string> {
  const parts: string[] = [];
  const content = Array.isArray(result.content) ? result.content : [];
  for (const [position, item] of content.entries()) {
    switch (item.type) {
      case 'text':
        parts.push(item.text);
        break;
      case 'image':
      case 'audio':
        parts.push(await saveMedia(item.data, item.mimeType, item.type, context, toolName, position));
        break;
      case 'resource_link':
        parts.push(`[resource link: ${item.uri}${item.name ? ` (${item.name})` : ''}]`);
        break;
      case 'resource': {
        const resource = item.resource;
        if ('text' in resource && typeof resource.text === 'string') {
          parts.push(`[resource ${resource.uri}]\n${resource.text}`);
        } else {
          parts.push(
            `[binary resource ${resource.uri}${resource.mimeType ? `, ${resource.mimeType}` : ''}, not shown]`,
          );
        }
        break;
      }
      default:
        parts.push(`[content of type ${String((item as { type: unknown }).type)} not shown]`);
    }
  }
  if (result.structuredContent !== undefined) {
    const structured = JSON.stringify(result.structuredContent);
    // Servers usually repeat structured content as text for older clients; show it once.
    if (!parts.some((part) => part.trim() === structured || safeEquals(part, result.structuredContent))) {
      parts.push(parts.length === 0 ? structured : `structured result: ${structured}`);
    }
  }
  if (parts.length === 0) return result.isError === true ? 'the tool reported an error without details' : 'done';
  return parts.join('\n');
}

function safeEquals(text: string, value: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(value);
  } catch {
    return false;
  }
}

const extensions: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'audio/wav': 'wav',
  'audio/mpeg': 'mp3',
};

/**
 * The largest image or audio item a call's result may save into the workspace. A server decides
 * what it sends; past this the item is named in the result and not written. (Over stdio the SDK
 * refuses a message over 10 MiB anyway; over HTTP nothing else bounds it.)
 */
const maxMediaBytes = 5_000_000;

async function saveMedia(
  data: string,
  mimeType: string,
  kind: 'image' | 'audio',
  context: ToolContext,
  toolName: string,
  position: number,
): Promise<string> {
  // Base64 holds three bytes in four characters: the size is known before anything is decoded.
  const size = Math.floor((data.replace(/=+$/, '').length * 3) / 4);
  if (size > maxMediaBytes) {
    return `[${kind}: ${mimeType}, ${size} bytes; not saved: over the ${maxMediaBytes}-byte limit for one item from a connector]`;
  }
  const bytes = Buffer.from(data, 'base64');
  if (context.workspace === undefined) return `[${kind}: ${mimeType}, ${bytes.length} bytes; not saved: no workspace]`;
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  const safeRun = context.runId.replace(/[^A-Za-z0-9_-]/g, '_');
  const relative = `.hataraku/mcp-media/${safeRun}/${context.stepIndex}-${position}-${digest}.${extensions[mimeType] ?? 'bin'}`;
  const absolute = join(context.workspace, relative);
  await mkdir(dirname(absolute), { recursive: true });
  await writeFile(absolute, bytes);
  context.recordArtifact({ path: relative, mediaType: mimeType, description: `${kind} from ${toolName}` });
  return `[${kind} saved as ${relative} (${mimeType}, ${bytes.length} bytes)]`;
}

function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const value of secrets) if (value.length >= 4) result = result.split(value).join('[secret]');
  return result;
}
