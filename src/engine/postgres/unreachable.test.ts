/**
 * A PostgreSQL journal out of reach when it is opened: the engine says so at once, in one line,
 * while it goes on trying, and then fails with one line naming the database and how long it
 * tried. No server is needed: nothing listens on the port.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { JournalError } from '../../errors.js';
import { openPostgresEngine } from './postgres-engine.js';

/** A loopback port nothing listens on: one the system handed out and took back. */
async function closedPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('a PostgreSQL journal out of reach', () => {
  it('is reported once while the engine tries again, then fails with one line', async () => {
    const port = await closedPort();
    const notices: Array<{ message: string }> = [];
    const engine = openPostgresEngine({
      url: `postgres://hataraku:secret-password@127.0.0.1:${port}/journal`,
      reconnectTimeoutMs: 1500,
      heartbeatMs: 0,
      onUnreachable: (message) => notices.push({ message }),
    });
    try {
      const failure = await engine.getRun('run_x').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(JournalError);
      const message = (failure as JournalError).message;
      expect(message).toMatch(
        /^cannot open the journal at postgres:\/\/hataraku:\*\*\*@127\.0\.0\.1:\d+\/journal: .*ECONNREFUSED.* \(tried for 2 s\)$/,
      );
      expect(message).not.toContain('secret-password');
      expect(message).not.toContain('\n');
      expect(notices).toHaveLength(1);
      expect(notices[0]?.message).toMatch(
        /^journal: cannot reach the PostgreSQL database at postgres:\/\/hataraku:\*\*\*@127\.0\.0\.1:\d+\/journal \(.*ECONNREFUSED.*\); trying again for up to 2 s\. Check that the server is up/,
      );
      expect(notices[0]?.message).not.toContain('secret-password');
    } finally {
      await engine.close();
    }
  });
});
