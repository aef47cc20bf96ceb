import { describe, expect, it } from 'vitest';
import { checkAnswerFormat, extractAnswer } from './answer-format.js';
import { sampleAgreement } from './features.js';

describe('extractAnswer', () => {
  it('reads a number after a configured marker, and notices a non-integer where one is due', () => {
    const format = { kind: 'number', marker: String.raw`####\s*(\S+)`, integer: true } as const;
    expect(extractAnswer('3 + 4 = 7\n#### 7', format)).toMatchObject({
      value: '7',
      number: 7,
      explicit: true,
      malformed: false,
    });
    expect(extractAnswer('so about 7.5\n#### 7.5', format).malformed).toBe(true);
    expect(extractAnswer('I get 12 apples', format)).toMatchObject({ number: 12, explicit: false });
    expect(extractAnswer('#### 3 ... wait #### 4', format).distinctStated).toBe(2);
  });

  it('reads a single-letter choice: a lone letter, a stated one, or the last offered letter mentioned', () => {
    const format = { kind: 'choice', choices: 'ABCD' } as const;
    expect(extractAnswer('(C)', format)).toMatchObject({ value: 'C', explicit: true, malformed: false });
    expect(extractAnswer('The answer is b.', format)).toMatchObject({ value: 'B', explicit: true });
    expect(extractAnswer('Maybe A, or perhaps D.', format)).toMatchObject({
      value: 'D',
      explicit: false,
      distinctStated: 2,
    });
    expect(extractAnswer('E', format).malformed).toBe(true);
  });

  it('reads a JSON field and a regular expression group', () => {
    expect(extractAnswer('```json\n{"total": 42}\n```', { kind: 'json-field', field: 'total' })).toMatchObject({
      value: '42',
      number: 42,
    });
    expect(extractAnswer('{"other": 1}', { kind: 'json-field', field: 'total' }).malformed).toBe(true);
    expect(extractAnswer('Final: yes', { kind: 'regex', pattern: 'Final:\\s*(\\w+)' }).value).toBe('yes');
  });

  it('rejects a malformed format with a message naming it', () => {
    expect(() => checkAnswerFormat({ kind: 'regex', pattern: '(' })).toThrow(
      /pattern "\(" is not a valid regular expression/,
    );
    expect(() => checkAnswerFormat({ kind: 'choice', choices: '' })).toThrow(/choices must be letters/);
  });
});

describe('sampleAgreement', () => {
  it('is the share of samples agreeing with the most common answer', () => {
    const format = { kind: 'choice', choices: 'ABCD' } as const;
    expect(sampleAgreement(['A', 'A', 'The answer is A', 'B'], format)).toBe(0.75);
    expect(sampleAgreement(['no idea', 'none'], format)).toBe(0);
  });
});
