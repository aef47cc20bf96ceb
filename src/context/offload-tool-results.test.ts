import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelMessage, ToolResultMessage } from '../models/spec.js';
import { readFileTool } from '../toolchain/files/workspace-files.js';
import { createToolContext } from '../tools/tool-context.js';
import type { ContextInput } from './context-strategy.js';
import { offloadedResultPath, offloadLargeToolResults } from './offload-tool-results.js';

const bigResult = Array.from({ length: 2_000 }, (_, index) => `line ${index + 1}: value ${index * 7}`).join('\n');

function history(): ModelMessage[] {
  return [
    { role: 'system', content: 'Answer from the files.' },
    { role: 'user', content: 'What is on line 1500 of data.txt?' },
    {
      role: 'assistant',
      content: [{ type: 'tool-call', id: 'call_1', name: 'files.read', arguments: '{"path":"data.txt"}' }],
    },
    { role: 'tool', toolCallId: 'call_1', toolName: 'files.read', content: bigResult },
    {
      role: 'assistant',
      content: [{ type: 'tool-call', id: 'call_2', name: 'files.stat', arguments: '{"path":"a"}' }],
    },
    { role: 'tool', toolCallId: 'call_2', toolName: 'files.stat', content: 'a: 12 bytes' },
  ];
}

function input(
  messages: ModelMessage[],
  workspace: string | undefined,
  extra: Partial<ContextInput> = {},
): ContextInput {
  return { messages, tools: [], modelName: 'openai:gpt-4o-mini', workspace, runId: 'run_1', stepIndex: 4, ...extra };
}

describe('offloadLargeToolResults', () => {
  it('writes a large result to the workspace and shows a handle with a preview of its start and end', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-offload-'));
    const artifacts: string[] = [];
    const strategy = offloadLargeToolResults({ maxCharacters: 4_000, previewCharacters: 600 });
    const messages = history();
    const output = await strategy.prepare(
      input(messages, workspace, { recordArtifact: (artifact) => artifacts.push(artifact.path) }),
    );

    const path = offloadedResultPath('.hataraku-results/tool-results', 'run_1', 3, 'call_1');
    expect(path).toBe('.hataraku-results/tool-results/run_1/3-call_1.txt');
    expect(readFileSync(join(workspace, path), 'utf8')).toBe(bigResult);
    expect(artifacts).toEqual([path]);
    const handle = output.messages[3] as ToolResultMessage;
    expect(handle.toolCallId).toBe('call_1');
    expect(handle.content).toContain(path);
    expect(handle.content).toContain(`${bigResult.length} characters, 2000 lines`);
    expect(handle.content).toContain(bigResult.slice(0, 400));
    expect(handle.content).toContain(bigResult.slice(-200));
    expect(handle.content).not.toContain('line 1500:');
    expect(handle.content.length).toBeLessThan(1_200);
    // Small results and everything else are passed through untouched.
    expect(output.messages[5]).toBe(messages[5]);
    expect(output.messages[2]).toBe(messages[2]);
    expect(output.messages.length).toBe(6);
    expect(output.notes).toHaveLength(1);
  });

  it('lets the model read the stored result back with files.read by line range', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-offload-'));
    await offloadLargeToolResults({ maxCharacters: 4_000 }).prepare(input(history(), workspace));
    const path = offloadedResultPath('.hataraku-results/tool-results', 'run_1', 3, 'call_1');
    const text = await readFileTool.execute({ path, startLine: 1500, endLine: 1500 }, createToolContext({ workspace }));
    expect(text).toContain('line 1500: value 10493');
  });

  it('rewrites the history the same way at every call and in a new process, writing each file once', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-offload-'));
    const messages = history();
    const strategy = offloadLargeToolResults({ maxCharacters: 4_000 });
    const first = await strategy.prepare(input(messages, workspace));
    const file = join(workspace, offloadedResultPath('.hataraku-results/tool-results', 'run_1', 3, 'call_1'));
    const written = statSync(file).mtimeMs;

    const grown: ModelMessage[] = [...messages, { role: 'assistant', content: [{ type: 'text', text: 'Done.' }] }];
    const second = await strategy.prepare(input(grown, workspace, { stepIndex: 6 }));
    expect(second.messages.slice(0, 6)).toEqual(first.messages);
    expect(second.messages[3]).toBe(first.messages[3]);
    expect(second.notes).toEqual([]);

    const resumed = await offloadLargeToolResults({ maxCharacters: 4_000 }).prepare(input(grown, workspace));
    expect(resumed.messages).toEqual(second.messages);
    expect(resumed.notes).toEqual([]);
    expect(statSync(file).mtimeMs).toBe(written);
  });

  it('keeps large results in place, with a note, when the run has no workspace', async () => {
    const output = await offloadLargeToolResults({ maxCharacters: 4_000 }).prepare(input(history(), undefined));
    expect((output.messages[3] as ToolResultMessage).content).toBe(bigResult);
    expect(output.notes[0]).toContain('no workspace');
  });

  it('never offloads a handle again and keeps file names safe', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-offload-'));
    const messages = history();
    (messages[3] as ToolResultMessage).toolCallId = '../../escape';
    (messages[2] as { content: Array<{ id: string }> }).content[0]!.id = '../../escape';
    const strategy = offloadLargeToolResults({ maxCharacters: 200, previewCharacters: 100 });
    const once = await strategy.prepare(input(messages, workspace));
    const twice = await strategy.prepare(input(once.messages, workspace));
    expect(twice.messages).toEqual(once.messages);
    expect(existsSync(join(workspace, '.hataraku-results/tool-results/run_1/3-______escape.txt'))).toBe(true);
  });

  it('writes outside the protected .hataraku/ and never through a link the model planted', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-offload-'));
    const outside = mkdtempSync(join(tmpdir(), 'hataraku-offload-outside-'));
    mkdirSync(join(workspace, '.hataraku-results', 'tool-results'), { recursive: true });
    // A model could create this link with files.write's neighbours or code.run: the run's folder points out.
    symlinkSync(outside, join(workspace, '.hataraku-results', 'tool-results', 'run_1'));
    const strategy = offloadLargeToolResults({ maxCharacters: 200, previewCharacters: 100 });
    const output = await strategy.prepare(input(history(), workspace));
    expect(readdirSync(outside)).toEqual([]);
    expect(output.notes.join('\n')).toContain('could not be written');
    expect((output.messages[3] as ToolResultMessage).content).toBe(bigResult);
  });

  it('rejects a preview as long as the limit', () => {
    expect(() => offloadLargeToolResults({ maxCharacters: 100, previewCharacters: 100 })).toThrow(RangeError);
  });
});
