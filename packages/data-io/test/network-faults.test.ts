// Network faults on 127.0.0.1: a server that stalls before the headers, one that stops mid-body, one that drops the
// connection, and a listing that is not JSON. Nothing hangs, the URL is named, and a partial download resumes.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { downloadToCache, resolveDataPath } from '../src/node.js';

const BODY = new Uint8Array(4096).map((_, i) => i % 251);
let server: Server;
let url: string;
const sockets = new Set<Socket>();
let requests = 0;
const dropped = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const path = req.url ?? '/';
    if (path.startsWith('/silent')) return; // accepts, never answers
    if (path.startsWith('/api/')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a proxy login page</html>');
      return;
    }
    const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const rest = BODY.subarray(start);
    res.writeHead(start ? 206 : 200, {
      'content-length': String(rest.length),
      ...(start ? { 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` } : {}),
    });
    // the first request of /stall and /drop sends 1000 bytes, then stalls (or drops the connection)
    if (start === 0 && (path.startsWith('/stall') || (path.startsWith('/drop') && !dropped.has(path)))) {
      res.write(rest.subarray(0, 1000));
      if (path.startsWith('/drop')) {
        dropped.add(path);
        setTimeout(() => res.socket?.destroy(), 100);
      }
      return;
    }
    res.end(rest);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const fast = { timeoutMs: 1000, idleTimeoutMs: 1000, retryDelayMs: 10 }; // generous: the machine may be busy

describe('network reads cannot hang', () => {
  it('a server that never answers: a DownloadError naming the URL, after the retries', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'net-'));
    const error = await downloadToCache(`${url}/silent/a.bin`, { cacheDir, retries: 1, ...fast }).catch((e: unknown) => e);
    expect(isOpenRetinaError(error, 'OPENRETINA_DOWNLOAD')).toBe(true);
    expect((error as Error).message).toContain(`${url}/silent/a.bin`);
    expect((error as Error).message).toMatch(/no response within 1 s/);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('a server that stalls mid-body: the stall is detected and the partial file resumes on the retry', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'net-'));
    requests = 0;
    const path = await downloadToCache(`${url}/stall/b.bin`, { cacheDir, retries: 2, ...fast });
    expect(new Uint8Array(readFileSync(path))).toEqual(BODY);
    expect(requests).toBeGreaterThanOrEqual(2); // the stalled request, then the resumed one
    expect(existsSync(`${path}.part`)).toBe(false);
  });

  it('a dropped connection: without retries the error names the URL; the next call resumes and completes', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'net-'));
    const error = await downloadToCache(`${url}/drop/c.bin`, { cacheDir, retries: 0, ...fast }).catch((e: unknown) => e);
    expect(isOpenRetinaError(error, 'OPENRETINA_DOWNLOAD')).toBe(true);
    expect((error as Error).message).toContain(`${url}/drop/c.bin`);
    const path = await downloadToCache(`${url}/drop/c.bin`, { cacheDir, retries: 0, ...fast });
    expect(new Uint8Array(readFileSync(path))).toEqual(BODY);
  });

  it('a listing that is not JSON is a DownloadError naming the URL, not a SyntaxError', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'net-'));
    const error = await resolveDataPath(`${url}/datasets/open-retina/open-retina/tree/main/lab/data`, {
      cacheDir,
      hfEndpoint: url,
      ...fast,
    }).catch((e: unknown) => e);
    expect(isOpenRetinaError(error, 'OPENRETINA_DOWNLOAD')).toBe(true);
    expect((error as Error).message).toMatch(/listing .*127\.0\.0\.1.* is not JSON/);
  });
});
