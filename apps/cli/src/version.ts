import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { presetsDirectory } from './config/compose.js';

/** The CLI's version, from the package.json shipped beside `configs/` (the same folder layout in the repo and when installed). */
export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(presetsDirectory(), '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
