import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DownloadProgress, downloadToCache, findInCache, getCacheDirectory, resolveDataPath } from '../src/node.js';
import { type TestServer, sha256, startServer } from './server.js';

let server: TestServer;
const root = mkdtempSync(join(tmpdir(), 'dataio-cache-'));
let n = 0;
const freshCache = () => join(root, `c${n++}`);
const payload = (size: number, seed = 1) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 255);
const quiet = { retries: 0 };

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('cache directory', () => {
  it('uses the override, then OPENRETINA_CACHE_DIRECTORY, then ~/openretina_cache', () => {
    const saved = process.env.OPENRETINA_CACHE_DIRECTORY;
    delete process.env.OPENRETINA_CACHE_DIRECTORY;
    expect(getCacheDirectory()).toBe(join(homedir(), 'openretina_cache'));
    process.env.OPENRETINA_CACHE_DIRECTORY = '~/x_cache';
    expect(getCacheDirectory()).toBe(join(homedir(), 'x_cache'));
    expect(getCacheDirectory('/tmp/y')).toBe('/tmp/y');
    if (saved === undefined) delete process.env.OPENRETINA_CACHE_DIRECTORY;
    else process.env.OPENRETINA_CACHE_DIRECTORY = saved;
  });
});

describe('downloadToCache', () => {
  it('downloads on a miss, serves a hit without a request, checks size and sha256', async () => {
    const body = payload(5000);
    server.files.set('/f/a.bin', body);
    const cacheDir = freshCache();
    const seen: number[] = [];
    const p = await downloadToCache(`${server.url}/f/a.bin`, {
      ...quiet,
      cacheDir,
      relativePath: 'lab/a.bin',
      sha256: sha256(body),
      expectedSize: 5000,
      onProgress: (x) => seen.push(x.received),
    });
    expect(p).toBe(join(cacheDir, 'lab/a.bin'));
    expect(readFileSync(p).equals(Buffer.from(body))).toBe(true);
    expect(seen.at(-1)).toBe(5000);
    const mtime = statSync(p).mtimeMs;
    const before = server.requests.length;
    expect(await downloadToCache(`${server.url}/f/a.bin`, { ...quiet, cacheDir, relativePath: 'lab/a.bin' })).toBe(p);
    expect(server.requests.length).toBe(before);
    expect(statSync(p).mtimeMs).toBe(mtime);
    expect(readdirSync(join(cacheDir, 'lab'))).toEqual(['a.bin']);
  });

  it('resumes an interrupted download with a Range request', async () => {
    const body = payload(200_000, 7);
    server.files.set('/f/big.bin', body);
    server.flaky.add('/f/big.bin');
    const cacheDir = freshCache();
    const url = `${server.url}/f/big.bin`;
    await expect(downloadToCache(url, { ...quiet, cacheDir })).rejects.toThrow(
      /Cannot download .*big.bin to .*big.bin: .*partial file .*big.bin.part is kept/,
    );
    const partSize = statSync(join(cacheDir, 'big.bin.part')).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(body.length);
    const p = await downloadToCache(url, { ...quiet, cacheDir, sha256: sha256(body) });
    expect(readFileSync(p).equals(Buffer.from(body))).toBe(true);
    expect(server.requests.filter((r) => r.path === '/f/big.bin').map((r) => r.range)).toEqual([undefined, `bytes=${partSize}-`]);
    expect(existsSync(join(cacheDir, 'big.bin.part'))).toBe(false);
  });

  it('prints nothing: start, data, retry and done go to onProgress (resuming within one call)', async () => {
    const body = payload(100_000, 3);
    server.files.set('/f/retry.bin', body);
    server.flaky.add('/f/retry.bin');
    const cacheDir = freshCache();
    const url = `${server.url}/f/retry.bin`;
    const events: DownloadProgress[] = [];
    const writes: string[] = [];
    const spies = [process.stderr, process.stdout].map((s) =>
      vi.spyOn(s, 'write').mockImplementation((chunk: string | Uint8Array) => {
        writes.push(String(chunk));
        return true;
      }),
    );
    let p: string;
    try {
      p = await downloadToCache(url, { retries: 1, retryDelayMs: 1, cacheDir, onProgress: (e) => events.push(e) });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(writes).toEqual([]);
    expect(readFileSync(p).equals(Buffer.from(body))).toBe(true);
    const phases = events.map((e) => e.phase);
    expect(phases[0]).toBe('start');
    expect(phases.at(-1)).toBe('done');
    expect(phases.filter((x) => x === 'retry')).toHaveLength(1);
    const retryAt = phases.indexOf('retry');
    expect(events[retryAt]!.attempt).toBe(1);
    expect(events[retryAt]!.received).toBeGreaterThan(0); // the part kept from the first attempt
    expect(events.every((e) => e.url === url && e.path === join(cacheDir, 'retry.bin'))).toBe(true);
    const data = events.filter((e) => e.phase === 'data');
    expect(data.at(-1)).toMatchObject({ received: body.length, total: body.length });
    expect(data.every((e, i) => i === 0 || e.received >= data[i - 1]!.received)).toBe(true);
  });

  it('rejects a wrong size and a checksum mismatch and leaves nothing behind', async () => {
    server.files.set('/f/c.bin', payload(1000));
    const cacheDir = freshCache();
    await expect(downloadToCache(`${server.url}/f/c.bin`, { ...quiet, cacheDir, expectedSize: 999 })).rejects.toThrow(
      /has the wrong size: expected 999 bytes, got 1000/,
    );
    await expect(downloadToCache(`${server.url}/f/c.bin`, { ...quiet, cacheDir, sha256: '00'.repeat(32) })).rejects.toThrow(
      /Checksum mismatch for .*c.bin \(cache path .*c.bin\): expected sha256 0000/,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
    // a cached file of the wrong size is downloaded again
    writeFileSync(join(cacheDir, 'c.bin'), 'short');
    const p = await downloadToCache(`${server.url}/f/c.bin`, { ...quiet, cacheDir, expectedSize: 1000 });
    expect(statSync(p).size).toBe(1000);
  });

  it('reports HTTP errors and offline (connection refused) with the URL and the cache path', async () => {
    const cacheDir = freshCache();
    await expect(downloadToCache(`${server.url}/nope.bin`, { ...quiet, cacheDir })).rejects.toThrow(
      /Cannot download http:\/\/127.0.0.1:\d+\/nope.bin to .*nope.bin: HTTP 404/,
    );
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dead = `http://127.0.0.1:${port}/x.bin`; // nothing listens there any more
    await expect(downloadToCache(dead, { ...quiet, cacheDir })).rejects.toThrow(
      new RegExp(`Cannot download ${dead.replace(/\./g, '\\.')} to ${cacheDir}/x.bin: connection refused`),
    );
  });

  it('unzips after download (three layouts) and treats the extracted folder as a cache hit', async () => {
    const cacheDir = freshCache();
    server.files.set('/z/one.zip', zipSync({ 'inner.h5': strToU8('single') }));
    server.files.set('/z/stim.zip', zipSync({ 'stim/a.txt': strToU8('A'), 'stim/sub/b.txt': strToU8('B') }));
    server.files.set('/z/many.zip', zipSync({ 'x.txt': strToU8('X'), 'y/z.txt': strToU8('Z') }));
    const one = await downloadToCache(`${server.url}/z/one.zip`, { ...quiet, cacheDir, relativePath: 'd/one.zip' });
    expect(one).toBe(join(cacheDir, 'd/inner.h5'));
    expect(readFileSync(one, 'utf8')).toBe('single');
    const stim = await downloadToCache(`${server.url}/z/stim.zip`, { ...quiet, cacheDir, relativePath: 'd/stim.zip' });
    expect(stim).toBe(join(cacheDir, 'd/stim'));
    expect(readFileSync(join(stim, 'sub/b.txt'), 'utf8')).toBe('B');
    const many = await downloadToCache(`${server.url}/z/many.zip`, { ...quiet, cacheDir, relativePath: 'd/many.zip' });
    expect(readFileSync(join(many, 'y/z.txt'), 'utf8')).toBe('Z');
    expect(readdirSync(join(cacheDir, 'd')).sort()).toEqual(['inner.h5', 'many', 'stim']);
    const before = server.requests.length;
    expect(await downloadToCache(`${server.url}/z/stim.zip`, { ...quiet, cacheDir, relativePath: 'd/stim.zip' })).toBe(stim);
    expect(server.requests.length).toBe(before);
    expect(await findInCache(cacheDir, 'd/stim_grey_scale.zip')).toBeUndefined();
  });
});

describe('resolveDataPath', () => {
  it('downloads HuggingFace files and folders under their repo path; GIN under the last two components; local paths', async () => {
    const cacheDir = freshCache();
    const base = '/datasets/open-retina/open-retina/resolve/main/lab/x_2024';
    server.files.set(`${base}/sessions/s1.h5`, payload(300, 1));
    server.files.set(`${base}/sessions/s2.h5`, payload(400, 2));
    server.files.set(`${base}/stim.npy`, payload(50, 3));
    const opts = { ...quiet, cacheDir, hfEndpoint: server.url };
    const folder = await resolveDataPath(`${server.url}/datasets/open-retina/open-retina/tree/main/lab/x_2024/sessions`, opts);
    expect(folder).toBe(join(cacheDir, 'lab/x_2024/sessions'));
    expect(readdirSync(folder).sort()).toEqual(['s1.h5', 's2.h5']);
    const file = await resolveDataPath(`${server.url}/datasets/open-retina/open-retina/blob/main/lab/x_2024/stim.npy`, opts);
    expect(file).toBe(join(cacheDir, 'lab/x_2024/stim.npy'));
    expect(statSync(file).size).toBe(50);
    const before = server.requests.length;
    expect(await resolveDataPath(`${server.url}/datasets/open-retina/open-retina/tree/main/lab/x_2024/sessions`, opts)).toBe(folder);
    expect(server.requests.length).toBe(before);
    await expect(resolveDataPath('https://example.org/a.h5', opts)).rejects.toThrow(/Only HuggingFace .* and GIN .* URLs are supported/);
    const local = join(root, 'local.txt');
    writeFileSync(local, 'x');
    expect(await resolveDataPath(local)).toBe(local);
    await expect(resolveDataPath(join(root, 'missing.h5'))).rejects.toThrow(/does not exist/);
    mkdirSync(join(cacheDir, '2024'), { recursive: true });
    writeFileSync(join(cacheDir, '2024/m.ckpt'), 'ckpt'); // cached: no request to GIN
    expect(await resolveDataPath('https://gin.g-node.org/lab/repo/raw/checkpoints/2024/m.ckpt', opts)).toBe(join(cacheDir, '2024/m.ckpt'));
  });
});
