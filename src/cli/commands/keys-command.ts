/**
 * `hataraku keys create | list | revoke`: the server's API keys, in the journal's database (its
 * SQLite file, or its PostgreSQL database when the config names one: see key-admin.ts).
 * A key is printed once, when it is created; only its hash is kept.
 */
import { UserError } from '../../errors.js';
import { openKeyAdmin } from '../../server/keys/key-admin.js';
import type { ApiKey } from '../../server/keys/key-store.js';
import { type CliIo, openHataraku, positiveIntegerFlag, positiveNumberFlag } from '../cli-context.js';

export async function keysCreateCommand(
  name: string,
  flags: {
    tenant?: string;
    budgetDay?: string;
    budgetMonth?: string;
    rateLimit?: string;
    agents?: string;
    models?: string;
    json?: boolean;
    config?: string;
  },
  io: CliIo,
): Promise<number> {
  if (flags.tenant === undefined || flags.tenant.trim() === '') {
    throw new UserError('usage', 'a key is bound to a tenant: pass --tenant NAME (e.g. --tenant acme).');
  }
  const list = (value: string | undefined) =>
    value === undefined
      ? undefined
      : value
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== '');
  const hataraku = openHataraku(io, flags.config);
  const store = openKeyAdmin(hataraku.config.journal);
  try {
    const { key, secret } = await store.create({
      name,
      tenant: flags.tenant,
      budgetDayUsd: positiveNumberFlag('--budget-day', flags.budgetDay, '5'),
      budgetMonthUsd: positiveNumberFlag('--budget-month', flags.budgetMonth, '100'),
      requestsPerMinute: positiveIntegerFlag('--rate-limit', flags.rateLimit, '60'),
      agents: list(flags.agents),
      models: list(flags.models),
    });
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ ...key, secret })}\n`);
    } else {
      io.stdout.write(
        `Created key "${key.name}" for tenant ${key.tenant}. It is shown only this once; store it now:\n\n${secret}\n\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
    await hataraku.close();
  }
}

export async function keysListCommand(flags: { json?: boolean; config?: string }, io: CliIo): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  const store = openKeyAdmin(hataraku.config.journal);
  try {
    const keys = await store.list();
    if (flags.json) {
      for (const key of keys) io.stdout.write(`${JSON.stringify(key)}\n`);
      return 0;
    }
    if (keys.length === 0) {
      io.stdout.write('No keys; create one with `hataraku keys create NAME --tenant TENANT`.\n');
      return 0;
    }
    for (const key of keys) io.stdout.write(`${describeKey(key)}\n`);
    return 0;
  } finally {
    await store.close();
    await hataraku.close();
  }
}

export async function keysRevokeCommand(nameOrId: string, flags: { config?: string }, io: CliIo): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  const store = openKeyAdmin(hataraku.config.journal);
  try {
    if (!(await store.revoke(nameOrId))) {
      throw new UserError('usage', `no active key named "${nameOrId}"; list keys with \`hataraku keys list\`.`);
    }
    io.stdout.write(`Revoked key "${nameOrId}"; requests with it are refused from now on.\n`);
    return 0;
  } finally {
    await store.close();
    await hataraku.close();
  }
}

function describeKey(key: ApiKey): string {
  const limits = [
    key.budgetDayUsd !== undefined ? `$${key.budgetDayUsd}/day` : undefined,
    key.budgetMonthUsd !== undefined ? `$${key.budgetMonthUsd}/month` : undefined,
    key.requestsPerMinute !== undefined ? `${key.requestsPerMinute} req/min` : undefined,
    key.agents ? `agents ${key.agents.join(',')}` : undefined,
    key.models ? `models ${key.models.join(',')}` : undefined,
  ].filter((part) => part !== undefined);
  return [
    `hk_${key.id}`,
    key.name,
    `tenant ${key.tenant}`,
    key.revokedAt ? `revoked ${new Date(key.revokedAt).toISOString()}` : 'active',
    ...limits,
  ].join('  ');
}
