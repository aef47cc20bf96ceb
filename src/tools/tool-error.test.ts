import { describe, expect, it } from 'vitest';
import { ChartToolError } from '../toolchain/charts/chart-tool-error.js';
import { DataToolError } from '../toolchain/data/data-tool-error.js';
import { DocumentError } from '../toolchain/documents/document-error.js';
import { ToolError } from './tool-error.js';

describe('ToolError', () => {
  it('is the one type every tool family throws, with its own name and reason', () => {
    const errors = [
      new DataToolError('read-only', 'the data tools are read-only'),
      new ChartToolError('invalid-spec', 'unknown mark "pie3d"'),
      new DocumentError('report.docx could not be read as a DOCX file.'),
    ];
    expect(errors.every((error) => error instanceof ToolError)).toBe(true);
    expect(errors.map((error) => [error.name, error.reason])).toEqual([
      ['DataToolError', 'read-only'],
      ['ChartToolError', 'invalid-spec'],
      ['DocumentError', 'unreadable'],
    ]);
  });

  it('keeps the cause', () => {
    const cause = new Error('disk full');
    expect(new ToolError('failed', 'could not write', { cause }).cause).toBe(cause);
  });
});
