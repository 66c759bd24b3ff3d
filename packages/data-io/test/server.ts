import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny HTTP server on 127.0.0.1 serving in-memory files with Range support, for download tests. */
export interface TestServer {
  url: string;
  files: Map<string, Uint8Array>;
  /** Paths that cut the connection after half the body on their first request. */
  flaky: Set<string>;
  /** Paths served with a wrong Content-Length-free truncated body (always). */
  requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function startServer(): Promise<TestServer> {
  const files = new Map<string, Uint8Array>();
  const flaky = new Set<string>();
  const requests: TestServer['requests'] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(u.pathname);
    requests.push({ path, range: req.headers.range });
    const tree = /^\/api\/datasets\/[^/]+\/[^/]+\/tree\/main\/(.*)$/.exec(path);
    if (tree) {
      const prefix = tree[1]!;
      const entries = [...files.keys()]
        .map((k) => /^\/datasets\/[^/]+\/[^/]+\/resolve\/main\/(.*)$/.exec(k)?.[1])
        .filter((p): p is string => p !== undefined && (p === prefix || p.startsWith(`${prefix}/`)))
        .map((p) => {
          const body = files.get(`/datasets/open-retina/open-retina/resolve/main/${p}`)!;
          return { type: 'file', path: p, size: body.length, lfs: { oid: sha256(body), size: body.length } };
        });
      if (entries.length === 0) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
      return;
    }
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'content-length': String(body.length - start),
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': String(body.length), 'accept-ranges': 'bytes' });
    }
    if (flaky.has(path)) {
      flaky.delete(path);
      const half = Math.floor((body.length - start) / 2);
      res.write(body.subarray(start, start + half), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body.subarray(start));
  };
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    flaky,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
