import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DownloadError } from '@openretina/contracts';
import { timedFetch, type NetworkTimeouts } from '../timed-fetch.js';
import { findInCache, getCacheDirectory } from './cache-directory.js';
import { unzipAndCleanup } from './unzip.js';

/*
 * Resumable, checked downloads into the cache: bytes go to a \`.part\` file that is resumed with a Range request, and
 * become the target only once size and SHA-256 are right.
 */

/** What a download is doing when it reports progress. */
export type DownloadPhase = 'start' | 'data' | 'retry' | 'done';

/**
 * Progress of one download, given to `onProgress` (the library prints nothing; the CLI renders these): `start` once
 * before the first request, `data` as bytes arrive, `retry` before another attempt, `done` once the file is in place.
 */
export interface DownloadProgress {
  url: string;
  /** The cache path the file goes to. */
  path: string;
  phase: DownloadPhase;
  /** Bytes in the cache file so far (including a resumed part). */
  received: number;
  /** Total bytes, when known. */
  total: number | undefined;
  /** The attempt (0 for the first request; each retry adds one). */
  attempt: number;
}

/** Options of {@link downloadToCache}. */
export interface DownloadOptions extends NetworkTimeouts {
  /** Path of the file under the cache directory (default: the URL's last path component). */
  relativePath?: string;
  /** Cache directory (default {@link getCacheDirectory}). */
  cacheDir?: string;
  /** Expected size in bytes; a mismatch is an error (and a cached file of another size is downloaded again). */
  expectedSize?: number;
  /** Expected SHA-256 (hex) of the downloaded file. */
  sha256?: string;
  /** Called as the download starts, as bytes arrive, before a retry and when it is done (see {@link DownloadProgress}). */
  onProgress?: (progress: DownloadProgress) => void;
  /** Extract `.zip` files after download and delete the zip (default true, as OpenRetina). */
  unzip?: boolean;
  /** Download even when the target is in the cache. */
  force?: boolean;
  /** Extra attempts after a failed one (default 2); each resumes from what arrived. */
  retries?: number;
  /** Wait before the first retry in ms, doubled each time (default 1000). */
  retryDelayMs?: number;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** The fetch implementation (default the global one). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

async function fileSize(p: string): Promise<number> {
  try {
    return (await stat(p)).size;
  } catch {
    return 0;
  }
}

async function sha256File(p: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A system error of a local file operation (it names its syscall; fetch's network errors carry theirs in `cause`). */
function isFileSystemError(error: unknown): error is Error & { code: string; syscall: string; path?: string } {
  const e = error as { code?: unknown; syscall?: unknown } | null;
  return e instanceof Error && typeof e.code === 'string' && typeof e.syscall === 'string';
}

/** A network failure in words (offline, refused, timed out, …). */
export function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused (offline, or the server is down)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found (offline?)';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was reset';
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** One attempt: fetches (resuming from `partPath` when it has bytes) and appends to it. */
async function fetchToPart(
  url: string,
  partPath: string,
  options: DownloadOptions,
  report: (received: number, total: number | undefined) => void,
): Promise<void> {
  const have = await fileSize(partPath);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (have > 0) headers.Range = `bytes=${have}-`;
  const timed = await timedFetch(url, { headers, ...(options.signal ? { signal: options.signal } : {}) }, options);
  const response = timed.response;
  if (response.status === 416 && have > 0) {
    // our part is already complete (or bigger than the file): let the size checks decide
    await timed.cancel();
    return;
  }
  if (!response.ok) {
    await timed.cancel();
    throw new DownloadError(`HTTP ${response.status} ${response.statusText} for ${url}.`, { details: { url, status: response.status } });
  }
  let offset = 0;
  if (response.status === 206) {
    const range = /bytes (\d+)-\d+\/(\d+|\*)/.exec(response.headers.get('content-range') ?? '');
    offset = range ? Number(range[1]) : have;
    if (offset !== have) {
      await timed.cancel();
      await rm(partPath, { force: true });
      throw new DownloadError(`The server resumed ${url} at byte ${offset}, expected ${have}; restarting.`);
    }
  }
  const lengthHeader = response.headers.get('content-length');
  const total = options.expectedSize ?? (lengthHeader !== null ? offset + Number(lengthHeader) : undefined);
  await mkdir(dirname(partPath), { recursive: true });
  const out = createWriteStream(partPath, { flags: offset > 0 ? 'a' : 'w' });
  // a failed write (a full disk) ends the stream with an error instead of a 'drain': remember it and stop reading
  let writeError: Error | undefined;
  const failed = new Promise<never>((_, reject) =>
    out.on('error', (e) => {
      writeError = e;
      reject(e);
    }),
  );
  failed.catch(() => undefined);
  let received = offset;
  try {
    if (!response.body) throw new DownloadError(`Empty response body for ${url}.`);
    for await (const chunk of timed.chunks()) {
      if (!out.write(chunk)) await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
      if (writeError) throw writeError;
      received += chunk.length;
      report(received, total);
    }
  } catch (error) {
    await timed.cancel();
    throw error;
  } finally {
    if (!writeError) await Promise.race([new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r()))), failed]);
  }
  if (lengthHeader !== null && received !== offset + Number(lengthHeader)) {
    throw new DownloadError(`The download of ${url} ended after ${received} of ${offset + Number(lengthHeader)} bytes.`);
  }
}

/**
 * Downloads `url` into the cache (resumable, atomic) and returns the local path. A cached file (or the folder extracted
 * from a cached zip) is returned without a request. Bytes go to `<target>.part` first; a failed or interrupted
 * attempt is resumed with an HTTP Range request; the size (`expectedSize`, else Content-Length) and `sha256` are
 * checked before the part is renamed to the target. Zips are extracted (see {@link unzipAndCleanup}). Errors are
 * {@link DownloadError}s naming the URL and the cache path.
 */
export async function downloadToCache(url: string, options: DownloadOptions = {}): Promise<string> {
  const cacheDir = getCacheDirectory(options.cacheDir);
  const relativePath = options.relativePath ?? decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'download');
  const target = join(cacheDir, relativePath);
  if (!resolve(target).startsWith(cacheDir))
    throw new DownloadError(`Relative path "${relativePath}" leaves the cache directory ${cacheDir}.`);
  const isZip = target.toLowerCase().endsWith('.zip') && (options.unzip ?? true);

  if (!options.force) {
    const hit = await findInCache(cacheDir, relativePath);
    if (hit !== undefined) {
      const st = await stat(hit);
      const sizeOk = !st.isFile() || hit !== target || options.expectedSize === undefined || st.size === options.expectedSize;
      if (sizeOk) return isZip && hit === target ? unzipAndCleanup(target) : hit;
    }
  }

  const part = `${target}.part`;
  let attempt = 0;
  let last = { received: await fileSize(part), total: options.expectedSize };
  const report = (phase: DownloadPhase) => options.onProgress?.({ url, path: target, phase, attempt, ...last });
  report('start');
  const retries = options.retries ?? 2;
  let delay = options.retryDelayMs ?? 1000;
  let lastError: unknown;
  for (; attempt <= retries; attempt++) {
    if (attempt > 0) report('retry');
    try {
      await fetchToPart(url, part, options, (received, total) => {
        last = { received, total };
        report('data');
      });
      lastError = undefined;
      break;
    } catch (error) {
      // a local file error (a full disk, no permission) is not the network's: no retry, and it names the file
      if (isFileSystemError(error)) throw Object.assign(error, { path: error.path ?? part });
      lastError = error;
      if (error instanceof DownloadError && /HTTP 4\d\d/.test(error.message)) break; // client errors do not heal
      if (attempt < retries) {
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
  }
  if (lastError !== undefined) {
    const why = lastError instanceof DownloadError ? lastError.message : describeNetworkError(lastError);
    throw new DownloadError(
      `Cannot download ${url} to ${target}: ${why}${(await fileSize(part)) > 0 ? ` (the partial file ${part} is kept and will be resumed)` : ''}`,
      {
        cause: lastError,
        details: { url, path: target },
      },
    );
  }
  const size = await fileSize(part);
  if (options.expectedSize !== undefined && size !== options.expectedSize) {
    await rm(part, { force: true });
    throw new DownloadError(`Downloaded ${url} to ${target} has the wrong size: expected ${options.expectedSize} bytes, got ${size}.`, {
      details: { url, path: target, expected: options.expectedSize, actual: size },
    });
  }
  if (options.sha256 !== undefined) {
    const digest = await sha256File(part);
    if (digest !== options.sha256.toLowerCase()) {
      await rm(part, { force: true });
      throw new DownloadError(`Checksum mismatch for ${url} (cache path ${target}): expected sha256 ${options.sha256}, got ${digest}.`, {
        details: { url, path: target, expected: options.sha256, actual: digest },
      });
    }
  }
  // the verified part becomes the file (the part is the temporary of this resumable write)
  await rename(part, target);
  const result = isZip ? await unzipAndCleanup(target) : target;
  report('done');
  return result;
}
