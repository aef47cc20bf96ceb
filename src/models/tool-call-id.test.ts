import { describe, expect, it } from 'vitest';
import { isPortableToolCallId, randomToolCallId, toolCallIdFrom } from './tool-call-id.js';

describe('made-up tool-call ids', () => {
  it('are nine letters and digits, the shape vLLM with a Mistral tokenizer requires', () => {
    for (let attempt = 0; attempt < 200; attempt++) expect(randomToolCallId()).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(isPortableToolCallId(toolCallIdFrom('run_1:3:0'))).toBe(true);
    expect(isPortableToolCallId('call_Xk3pL9qRz2Vw8Ny4Tb6Mc1Hd')).toBe(false);
  });

  it('derived from a seed, are the same every time (a resumed run makes the same ids)', () => {
    expect(toolCallIdFrom('run_1:3:0')).toBe(toolCallIdFrom('run_1:3:0'));
    expect(toolCallIdFrom('run_1:3:0')).not.toBe(toolCallIdFrom('run_1:3:1'));
  });
});
