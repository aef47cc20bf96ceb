#!/usr/bin/env node
/**
 * Starts `@modelcontextprotocol/server-everything` in an HTTP mode (`streamableHttp` or `sse`,
 * the first argument) listening on 127.0.0.1 only, on a free port, and prints
 * `listening on 127.0.0.1:<port>` once it does. The server itself listens on every interface at
 * the fixed PORT it is given; tests must not open ports beyond loopback, nor race for a port.
 */
import { Server } from 'node:http';
import { fileURLToPath } from 'node:url';

const listen = Server.prototype.listen;
Server.prototype.listen = function listenOnLoopback(...args) {
  const callback = typeof args.at(-1) === 'function' ? args.pop() : undefined;
  this.once('listening', () => {
    process.stderr.write(`listening on 127.0.0.1:${this.address().port}\n`);
  });
  return listen.call(this, 0, '127.0.0.1', callback);
};

await import(
  fileURLToPath(new URL('../../../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url))
);
