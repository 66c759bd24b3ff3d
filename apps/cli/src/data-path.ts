import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { presetsDirectory } from './config/index.js';

/** A relative data path: against the working directory first, then against the CLI package (bundled data). */
export function resolveDataDir(path: string): string {
  const expanded = path.startsWith('~/') ? join(process.env.HOME ?? '~', path.slice(2)) : path;
  if (isAbsolute(expanded) || existsSync(expanded) || /^[a-z]+:\/\//i.test(expanded)) return expanded;
  const packaged = join(dirname(presetsDirectory()), expanded);
  return existsSync(packaged) ? packaged : expanded;
}

/** Resolved absolute form of a path, for messages. */
export const absolute = (p: string): string => resolve(p);
