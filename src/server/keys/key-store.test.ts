/** API keys in a real SQLite file: stored hashed, shown once, verified, revoked. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyAllows, openKeyStore } from './key-store.js';

function store() {
  const path = join(mkdtempSync(join(tmpdir(), 'hataraku-keys-')), 'nested', 'hataraku.db');
  return { path, keys: openKeyStore({ path }) };
}

describe('the key store', () => {
  it('keeps only a hash of the key, and verifies the key itself', () => {
    const { path, keys } = store();
    const { key, secret } = keys.create({
      name: 'ops-bot',
      tenant: 'acme',
      budgetDayUsd: 5,
      requestsPerMinute: 60,
      agents: ['support'],
    });
    expect(secret).toMatch(/^hk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ name: 'ops-bot', tenant: 'acme', budgetDayUsd: 5, agents: ['support'] });
    keys.close();
    // Closed, the write-ahead log is folded into the file: all that was stored is in it.
    const bytes = readFileSync(path).toString('latin1');
    expect(bytes).toContain('ops-bot');
    expect(bytes).not.toContain(secret.slice(20));

    const reopened = openKeyStore({ path });
    expect(reopened.verify(secret)).toMatchObject({ name: 'ops-bot', tenant: 'acme' });
    expect(reopened.verify(`${secret.slice(0, -1)}x`)).toBeUndefined();
    expect(reopened.verify('sk-something-else')).toBeUndefined();
    expect(reopened.list().map((listed) => listed.name)).toEqual(['ops-bot']);
    reopened.close();
  });

  it('revokes by name or id, once', () => {
    const { keys } = store();
    const first = keys.create({ name: 'a', tenant: 't' });
    const second = keys.create({ name: 'b', tenant: 't' });
    expect(keys.findById(first.key.id)).toMatchObject({ name: 'a', revokedAt: undefined });
    expect(keys.revoke('a')).toBe(true);
    expect(keys.revoke('a')).toBe(false);
    expect(keys.verify(first.secret)).toBeUndefined();
    // By id, a revoked key is still found, saying when it was revoked; an unknown id is not.
    expect(keys.findById(first.key.id)?.revokedAt).toEqual(expect.any(Number));
    expect(keys.findById('0000000000000000')).toBeUndefined();
    expect(keys.revoke(`hk_${second.key.id}`)).toBe(true);
    expect(keys.verify(second.secret)).toBeUndefined();
    expect(keys.list().every((listed) => listed.revokedAt !== undefined)).toBe(true);
    keys.close();
  });

  it('remembers a verified key, yet refuses it from the next request on once it is revoked, here or by another connection', () => {
    const { path, keys } = store();
    const first = keys.create({ name: 'a', tenant: 't' });
    const second = keys.create({ name: 'b', tenant: 't' });
    // Verified once, then again from memory (the same object, no new lookup).
    const verified = keys.verify(first.secret);
    expect(verified).toMatchObject({ name: 'a' });
    expect(keys.verify(first.secret)).toBe(verified);
    expect(keys.verify(`${first.secret.slice(0, -1)}x`)).toBeUndefined();
    // `hataraku keys revoke` in another process: another connection to the same file.
    const cli = openKeyStore({ path });
    expect(cli.revoke('a')).toBe(true);
    cli.close();
    expect(keys.verify(first.secret)).toBeUndefined();
    expect(keys.verify(second.secret)).toMatchObject({ name: 'b' });
    // Revoked through this store, while remembered.
    expect(keys.verify(second.secret)).toMatchObject({ name: 'b' });
    expect(keys.revoke('b')).toBe(true);
    expect(keys.verify(second.secret)).toBeUndefined();
    keys.close();
  });

  it('refuses a duplicate or malformed name and a missing tenant, saying what to do', () => {
    const { keys } = store();
    keys.create({ name: 'a', tenant: 't' });
    expect(() => keys.create({ name: 'a', tenant: 't' })).toThrow(/already exists; choose another name/);
    expect(() => keys.create({ name: 'has space', tenant: 't' })).toThrow(/letters, digits/);
    expect(() => keys.create({ name: 'c', tenant: ' ' })).toThrow(/--tenant/);
    keys.close();
  });

  it('reads allow-lists with exact names and prefix patterns', () => {
    expect(keyAllows(undefined, 'anything')).toBe(true);
    expect(keyAllows(['openai:*', 'route:cheap'], 'openai:gpt-4o-mini')).toBe(true);
    expect(keyAllows(['openai:*', 'route:cheap'], 'route:cheap')).toBe(true);
    expect(keyAllows(['openai:*', 'route:cheap'], 'anthropic:claude')).toBe(false);
    expect(keyAllows([], 'x')).toBe(false);
  });
});
