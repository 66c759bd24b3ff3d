import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { recoverDirectory } from '@openretina/formats/node';

/*
 * Where downloaded data lives (OpenRetina's cache directory and its environment variable) and how a cached file or
 * the folder extracted from it is found again.
 */

/** Environment variable that sets the cache directory (as in OpenRetina). */
export const CACHE_ENV_VAR = 'OPENRETINA_CACHE_DIRECTORY';

/** `~` and `~/…` as the home directory. */
export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith(`~/`) || p.startsWith(`~${sep}`) ? join(homedir(), p.slice(2)) : p;
}

/** The cache directory: `override`, else `$OPENRETINA_CACHE_DIRECTORY`, else `~/openretina_cache`. */
export function getCacheDirectory(override?: string): string {
  const dir = override ?? process.env[CACHE_ENV_VAR] ?? join(homedir(), 'openretina_cache');
  return resolve(expandHome(dir));
}

/**
 * The path under which `relPath` is present in the cache, or undefined (OpenRetina's `is_target_present`): the exact
 * path, else a sibling with the same stem (e.g. the folder extracted from `foo.zip`), ignoring `.part`, `.lock`,
 * `.metadata` and temp files.
 */
export async function findInCache(cacheDir: string, relPath: string): Promise<string | undefined> {
  const target = join(cacheDir, relPath);
  const dir = dirname(target);
  const stem = basename(target, extname(target));
  // an extraction (folder swap) or a file write killed midway is repaired before we look
  recoverDirectory(target);
  if (stem !== basename(target)) recoverDirectory(join(dir, stem));
  if (await exists(target)) return target;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const e of entries.sort()) {
    if (e.startsWith('.') || /\.(part|lock|metadata|tmp)$/.test(e)) continue;
    if (e === stem || basename(e, extname(e)) === stem) return join(dir, e);
  }
  return undefined;
}

/** True when the path exists. */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
