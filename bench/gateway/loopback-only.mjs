/**
 * Preloaded into the Portkey gateway's process (`node --import`): its start script listens on
 * every interface and takes no host option, so this makes every server it starts listen on
 * 127.0.0.1 only, as benchmarks here must.
 */
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'number')
    return listen.call(this, args[0], '127.0.0.1', ...args.slice(typeof args[1] === 'string' ? 2 : 1));
  if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined) {
    return listen.call(this, { ...args[0], host: '127.0.0.1' }, ...args.slice(1));
  }
  return listen.apply(this, args);
};
