/**
 * A PostgreSQL server of the test's own, for faults that stop or restart the server: `initdb`
 * into a temporary directory, started with `pg_ctl` on a free port on 127.0.0.1. PostgreSQL
 * refuses to run as root, so under root the server runs as the `postgres` user. Unavailable
 * (and the tests that need it skip, saying so) when the server binaries are not installed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findServerBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')))
    .sort((left, right) => Number(right) - Number(left));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

const binaries = findServerBinaries();
const runningAsRoot = process.getuid?.() === 0;

export const privateClusterSkipReason =
  'PostgreSQL server faults skipped: the PostgreSQL server binaries (/usr/lib/postgresql/*/bin/pg_ctl, Debian package postgresql) are not installed';
export const privateClusterAvailable = binaries !== undefined;

export interface PrivateCluster {
  /** URL of the `postgres` database as the `postgres` superuser. */
  url: string;
  /** Restart the server: `fast` shuts down cleanly, `immediate` is a crash (no checkpoint). */
  restart(mode: 'fast' | 'immediate'): void;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startPrivateCluster(): Promise<PrivateCluster> {
  if (!binaries) throw new Error(privateClusterSkipReason);
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-pg-'));
  const data = join(directory, 'data');
  const port = await freePort();
  const asServerUser = (command: string, args: string[]) =>
    runningAsRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(binaries, command), ...args], { stdio: 'pipe' })
      : execFileSync(join(binaries, command), args, { stdio: 'pipe' });
  if (runningAsRoot) {
    const postgres = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(directory, postgres, postgres);
    chmodSync(directory, 0o700);
  }
  asServerUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const serverOptions = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const control = (action: string, extra: string[] = []) =>
    asServerUser('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', join(directory, 'server.log'), ...extra, action]);
  control('start', ['-o', serverOptions]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart(mode) {
      control('restart', ['-m', mode, '-o', serverOptions]);
    },
    stop() {
      try {
        control('stop', ['-m', 'immediate']);
      } catch {
        // Already stopped.
      }
    },
  };
}

