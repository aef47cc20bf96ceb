import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { attachmentsFromSpec, loadAttachment, sniffMediaType, userMessageWith } from './attachments.js';

describe('sniffMediaType', () => {
  it('reads the type from the first bytes of PNG, JPEG, GIF, WebP and PDF files', () => {
    const bytes = (...values: number[]) => Uint8Array.from(values);
    expect(sniffMediaType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe('image/png');
    expect(sniffMediaType(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg');
    expect(sniffMediaType(Buffer.from('GIF89a'))).toBe('image/gif');
    expect(sniffMediaType(Buffer.from('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '))).toBe('image/webp');
    expect(sniffMediaType(Buffer.from('%PDF-1.7\n'))).toBe('application/pdf');
    expect(sniffMediaType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
  });
});

describe('loadAttachment', () => {
  it('loads a PDF as a file part and refuses a link that leaves the workspace', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-attachments-'));
    const outside = mkdtempSync(join(tmpdir(), 'hataraku-outside-'));
    writeFileSync(join(workspace, 'report.pdf'), '%PDF-1.4\n%%EOF\n');
    writeFileSync(join(outside, 'secret.pdf'), '%PDF-1.4\n');
    symlinkSync(join(outside, 'secret.pdf'), join(workspace, 'link.pdf'));
    expect(loadAttachment(workspace, 'report.pdf')).toEqual({
      type: 'file',
      mediaType: 'application/pdf',
      data: Buffer.from('%PDF-1.4\n%%EOF\n').toString('base64'),
      filename: 'report.pdf',
    });
    expect(() => loadAttachment(workspace, 'link.pdf')).toThrow(UserError);
    expect(() => loadAttachment(workspace, 'link.pdf')).toThrow(/points outside the workspace/);
  });

  it('round-trips through the run spec the journal keeps, ignoring malformed entries', () => {
    const part = { type: 'image' as const, mediaType: 'image/png' as const, data: 'iVBORw0=', filename: 'a.png' };
    expect(
      attachmentsFromSpec({ attachments: [part, { type: 'image', mediaType: 'image/svg+xml', data: 'x' }] }),
    ).toEqual([part]);
    expect(userMessageWith('Look.', [part])).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'Look.' }, part],
    });
    expect(userMessageWith('Look.', [])).toEqual({ role: 'user', content: 'Look.' });
  });
});
