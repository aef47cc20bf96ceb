import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { endStopReasons, stopAdvice, stopReasonFrom } from './stop-reason.js';

describe('stop reasons', () => {
  it('are all documented in docs/architecture.md, in one spelling', () => {
    const docs = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    for (const reason of endStopReasons) expect(docs).toContain(`| \`${reason}\` |`);
    expect(docs).not.toMatch(/`budget_exceeded` \| stopped/);
  });

  it('has advice only for reasons a run can stop with', () => {
    for (const reason of Object.keys(stopAdvice)) expect(endStopReasons).toContain(reason);
  });

  it('reads a missing reason from the journal as unknown, and keeps any other as it is', () => {
    expect(stopReasonFrom(undefined)).toBe('unknown');
    expect(stopReasonFrom('max-steps')).toBe('max-steps');
  });
});
