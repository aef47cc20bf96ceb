/**
 * Where `hataraku keys` writes: the PostgreSQL journal when the config names one (`journal.url`
 * or `HATARAKU_DATABASE_URL`), so that every server on it sees the key; else the journal's
 * SQLite file.
 */
import { openKeyStore } from './key-store.js';
import { type KeyAdmin, openPostgresKeyAdmin } from './postgres-key-store.js';

export type { KeyAdmin } from './postgres-key-store.js';

export function openKeyAdmin(journal: { path: string; url?: string | undefined }): KeyAdmin {
  if (journal.url) return openPostgresKeyAdmin({ url: journal.url });
  const store = openKeyStore({ path: journal.path });
  return {
    create: async (key) => store.create(key),
    list: async () => store.list(),
    revoke: async (nameOrId) => store.revoke(nameOrId),
    close: async () => store.close(),
  };
}
