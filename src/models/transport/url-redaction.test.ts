import { describe, expect, it } from 'vitest';
import { redactedUrl, redactUrlCredentials } from './url-redaction.js';

describe('redactedUrl', () => {
  it('hides userinfo and query values, keeps the rest', () => {
    expect(redactedUrl('https://user:pass@api.example.com/v1')).toBe('https://[redacted]@api.example.com/v1');
    expect(redactedUrl('https://api.example.com/v1/chat?key=abc123&api-version=2024')).toBe(
      'https://api.example.com/v1/chat?key=[redacted]&api-version=[redacted]',
    );
    expect(redactedUrl('https://api.example.com/v1')).toBe('https://api.example.com/v1');
  });

  it('hides them in a URL the platform cannot parse', () => {
    expect(redactedUrl('https://user:pass@exa mple/v1?key=abc')).toBe('https://[redacted]@exa mple/v1?key=[redacted]');
  });
});

describe('redactUrlCredentials', () => {
  it('replaces the URL and each credential it carries, raw or decoded', () => {
    const url = 'https://aiko:p%40ss-word@api.example.com/v1?token=tok%2Fsecret-1';
    const text = `failed: ${url}; user aiko, password p@ss-word, token tok/secret-1 and tok%2Fsecret-1`;
    const redacted = redactUrlCredentials(text, url);
    expect(redacted).toBe(
      'failed: https://[redacted]@api.example.com/v1?token=[redacted]; user [redacted], password [redacted], token [redacted] and [redacted]',
    );
  });
});

describe('redactUrlCredentials without a known URL', () => {
  it('still hides the userinfo of any URL in the text', () => {
    expect(redactUrlCredentials('Cannot connect to https://aiko:hunter2@api.example.com/v1 (refused)', undefined)).toBe(
      'Cannot connect to https://[redacted]@api.example.com/v1 (refused)',
    );
    expect(redactUrlCredentials('mail aiko@example.com', undefined)).toBe('mail aiko@example.com');
  });
});
