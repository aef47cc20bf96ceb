/**
 * A stand-in for the Hugging Face Hub at the network edge, on 127.0.0.1: the tree API
 * (`/api/models/<repo>/tree/<revision>`, with each LFS file's sha256 as `lfs.oid`) and file
 * downloads (`/<repo>/resolve/<revision>/<file>`) with HTTP Range support, as the Hub serves
 * them. It can cut a download short once, to test resuming.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubFile {
  repo: string;
  path: string;
  content: Buffer;
  /** The sha256 the API reports; defaults to the real one. */
  reportedSha256?: string;
}

export interface FakeHub {
  url: string;
  /** Range headers received on downloads, in order (`undefined` for a full request). */
  ranges: Array<string | undefined>;
  /** Cut the next download after this many bytes of the body. */
  cutNextDownloadAfter(bytes: number): void;
  close(): Promise<void>;
}

export async function startFakeHub(files: FakeHubFile[]): Promise<FakeHub> {
  const ranges: Array<string | undefined> = [];
  let cutAfter: number | undefined;
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(url.pathname);
    if (tree) {
      const entries = files
        .filter((file) => file.repo === tree[1])
        .map((file) => ({
          type: 'file',
          path: file.path,
          size: file.content.length,
          lfs: {
            oid: file.reportedSha256 ?? createHash('sha256').update(file.content).digest('hex'),
            size: file.content.length,
          },
        }));
      if (entries.length === 0) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
      return;
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(url.pathname);
    const file =
      resolve &&
      files.find((entry) => entry.repo === resolve[1] && entry.path === decodeURIComponent(resolve[2] ?? ''));
    if (!file) {
      response.writeHead(404).end('Entry not found');
      return;
    }
    const range = request.headers.range;
    ranges.push(range);
    let start = 0;
    const rangeMatch = range ? /^bytes=(\d+)-$/.exec(range) : null;
    if (rangeMatch) start = Number(rangeMatch[1]);
    if (start >= file.content.length && range) {
      response.writeHead(416, { 'content-range': `bytes */${file.content.length}` }).end();
      return;
    }
    const body = file.content.subarray(start);
    response.writeHead(range ? 206 : 200, {
      'content-length': String(body.length),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${file.content.length - 1}/${file.content.length}` } : {}),
    });
    if (cutAfter !== undefined) {
      const cut = cutAfter;
      cutAfter = undefined;
      response.write(body.subarray(0, cut), () => response.destroy());
      return;
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ranges,
    cutNextDownloadAfter(bytes) {
      cutAfter = bytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
