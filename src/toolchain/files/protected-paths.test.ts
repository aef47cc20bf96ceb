import { describe, expect, it } from 'vitest';
import { createProtectedPaths, defaultProtectedPatterns } from './protected-paths.js';

describe('createProtectedPaths', () => {
  const protectedPaths = createProtectedPaths();

  it('protects the journal, the config, git metadata and env files by default', () => {
    expect(defaultProtectedPatterns).toEqual(['.hataraku', 'hataraku.config.json', '.git', '.env*']);
    for (const path of [
      '.hataraku',
      '.hataraku/hataraku.db',
      '.hataraku/hataraku.db-wal',
      'hataraku.config.json',
      '.git/config',
      '.git/hooks/pre-commit',
      '.env',
      '.env.local',
      'vendor/lib/.git/config',
      'services/api/.env.production',
    ]) {
      expect(protectedPaths.isProtected(path), path).toBe(true);
    }
  });

  it('ignores case, separators and dot segments, as the file system would', () => {
    for (const path of ['.GIT/config', '.Git\\hooks\\post-merge', './.git//config', 'HATARAKU.CONFIG.JSON', '.ENV']) {
      expect(protectedPaths.isProtected(path), path).toBe(true);
    }
  });

  it('leaves ordinary files and look-alike names alone', () => {
    for (const path of [
      '.',
      '',
      'notes.txt',
      'data/sales.csv',
      '.gitignore',
      'git/config',
      'my.env',
      'hataraku.config.json.bak',
    ]) {
      expect(protectedPaths.isProtected(path), path).toBe(false);
    }
  });

  it('anchors a pattern with a slash at the workspace root', () => {
    const anchored = createProtectedPaths(['secrets/*.pem', 'build/']);
    expect(anchored.isProtected('secrets/server.pem')).toBe(true);
    expect(anchored.isProtected('build/out.js')).toBe(true);
    expect(anchored.isProtected('nested/secrets/server.pem')).toBe(false);
    expect(anchored.isProtected('secrets/readme.md')).toBe(false);
  });

  it('refuses patterns that are empty, absolute or climb out', () => {
    expect(() => createProtectedPaths([''])).toThrow(TypeError);
    expect(() => createProtectedPaths(['/etc/passwd'])).toThrow(/relative to the workspace/);
    expect(() => createProtectedPaths(['../outside'])).toThrow(/must not contain/);
  });
});
