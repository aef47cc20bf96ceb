/**
 * Output into a pipe whose reader has gone (`hataraku runs list --json | head -1`): like any Unix
 * tool, the command stops quietly instead of crashing with an unhandled EPIPE. Any other error
 * on the stream is left to Node (it is a real failure worth a trace).
 */
import type { Writable } from 'node:stream';

export function stopQuietlyOnClosedPipe(stream: Writable, exit: (code: number) => void): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    // Nobody reads what is left to print. A run in progress stays pending in the journal and
    // can be resumed, as after Ctrl-C.
    exit(0);
  });
}
