import { join, resolve } from 'node:path';
import { DataError, DownloadError, UnsupportedError } from '@openretina/contracts';
import { timedFetch } from '../timed-fetch.js';
import { exists, expandHome, findInCache, getCacheDirectory } from './cache-directory.js';
import { type DownloadOptions, describeNetworkError, downloadToCache } from './download.js';

/*
 * OpenRetina's \`get_local_file_path\`: a local path, or a HuggingFace or GIN URL resolved to its copy in the cache
 * (downloaded when missing; HuggingFace folders file by file from the repository's listing).
 */

/** OpenRetina's HuggingFace dataset repository. */
export const HF_DATASET_REPO = 'open-retina/open-retina';
/** Base URL of the GIN server. */
export const GIN_BASE_URL = 'https://gin.g-node.org/';

/** Options of {@link resolveDataPath}. */
export interface ResolveOptions extends Omit<DownloadOptions, 'relativePath' | 'expectedSize' | 'sha256'> {
  /** HuggingFace endpoint (default `$HF_ENDPOINT` or `https://huggingface.co`). */
  hfEndpoint?: string;
  /** HuggingFace dataset repository (default `open-retina/open-retina`). */
  hfRepo?: string;
  /** Revision (default `main`). */
  revision?: string;
}

interface HfEntry {
  type: string;
  path: string;
  size?: number;
  lfs?: { oid?: string; size?: number };
}

async function hfList(
  endpoint: string,
  repo: string,
  revision: string,
  path: string,
  options: ResolveOptions,
): Promise<HfEntry[] | undefined> {
  const url = `${endpoint}/api/datasets/${repo}/tree/${revision}/${path.split('/').map(encodeURIComponent).join('/')}?recursive=true`;
  let text: string;
  try {
    const timed = await timedFetch(url, { headers: options.headers ?? {} }, options);
    if (timed.response.status === 404) {
      await timed.cancel();
      return undefined;
    }
    if (!timed.response.ok) {
      await timed.cancel();
      throw new DownloadError(`HTTP ${timed.response.status} listing ${url}.`, { details: { url } });
    }
    text = await timed.text();
  } catch (error) {
    if (error instanceof DownloadError) throw error;
    throw new DownloadError(`Cannot list ${url}: ${describeNetworkError(error)}`, { cause: error, details: { url } });
  }
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (cause) {
    throw new DownloadError(`The listing ${url} is not JSON (${JSON.stringify(text.slice(0, 60))}…): is the endpoint a HuggingFace hub?`, {
      cause,
      details: { url },
    });
  }
  if (!Array.isArray(entries)) throw new DownloadError(`The listing ${url} is not a JSON array of files.`, { details: { url } });
  return entries as HfEntry[];
}

/**
 * A local path for a file or folder given as a local path or a remote URL (OpenRetina's `get_local_file_path`):
 * - `https://huggingface.co/…/main/<path>`: `<path>` of the dataset repository, cached at `<cache>/<path>`; a folder is
 *   downloaded file by file (sizes and LFS SHA-256 checked);
 * - `https://gin.g-node.org/…`: cached under its last two path components;
 * - other URLs are not supported; anything else is a local path (`~` expanded) that must exist.
 */
export async function resolveDataPath(pathOrUrl: string, options: ResolveOptions = {}): Promise<string> {
  const cacheDir = getCacheDirectory(options.cacheDir);
  const endpoint = (options.hfEndpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/$/, '');
  const isHf = pathOrUrl.startsWith('https://huggingface.co/') || pathOrUrl.startsWith(`${endpoint}/`);
  if (isHf) {
    const target = pathOrUrl.split('main/').pop()!.replace(/\/$/, '');
    const repo = options.hfRepo ?? HF_DATASET_REPO;
    const revision = options.revision ?? 'main';
    const hit = options.force ? undefined : await findInCache(cacheDir, target);
    if (hit !== undefined && !target.toLowerCase().endsWith('.zip')) return hit;
    const entries = hit !== undefined ? [] : await hfList(endpoint, repo, revision, target, options);
    const fileUrl = (p: string) => `${endpoint}/datasets/${repo}/resolve/${revision}/${p.split('/').map(encodeURIComponent).join('/')}`;
    const files = (entries ?? []).filter((e) => e.type === 'file');
    if (hit !== undefined || entries === undefined || (files.length === 1 && files[0]!.path === target) || files.length === 0) {
      // a single file (the tree listing of a file path is the file itself, or 404)
      const meta = files.find((f) => f.path === target);
      return downloadToCache(fileUrl(target), {
        ...options,
        cacheDir,
        relativePath: target,
        ...(meta?.size !== undefined ? { expectedSize: meta.lfs?.size ?? meta.size } : {}),
        ...(meta?.lfs?.oid !== undefined ? { sha256: meta.lfs.oid } : {}),
      });
    }
    for (const f of files.filter((e) => e.path === target || e.path.startsWith(`${target}/`))) {
      await downloadToCache(fileUrl(f.path), {
        ...options,
        cacheDir,
        relativePath: f.path,
        ...(f.size !== undefined ? { expectedSize: f.lfs?.size ?? f.size } : {}),
        ...(f.lfs?.oid !== undefined ? { sha256: f.lfs.oid } : {}),
      });
    }
    return join(cacheDir, target);
  }
  if (pathOrUrl.startsWith(GIN_BASE_URL)) {
    const parts = new URL(pathOrUrl).pathname.split('/').filter(Boolean);
    return downloadToCache(pathOrUrl, { ...options, cacheDir, relativePath: parts.slice(-2).map(decodeURIComponent).join('/') });
  }
  if (/^[a-z]+:\/\//i.test(pathOrUrl)) {
    throw new UnsupportedError(
      `Only HuggingFace (https://huggingface.co/) and GIN (${GIN_BASE_URL}) URLs are supported, got ${pathOrUrl}.`,
    );
  }
  const local = resolve(expandHome(pathOrUrl));
  if (!(await exists(local))) throw new DataError(`Local path ${local} does not exist.`);
  return local;
}
