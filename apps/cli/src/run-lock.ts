// One process per run folder: a lock file created exclusively, naming its owner; a dead owner's lock is stale.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@openretina/contracts';

/** The lock file's name inside a run folder. */
export const LOCK_FILE = '.openretina.lock';

interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

/** Whether the process `pid` on this host is alive (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'; // it exists, owned by someone else
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? { pid: o.pid, host: o.host, started: String(o.started) } : undefined;
  } catch {
    return undefined; // unreadable or half-written: treated as stale
  }
}

/** A held lock; `release()` removes the lock file (once). */
export interface RunLock {
  path: string;
  release(): void;
}

/**
 * Takes the lock of a run folder (which must exist): refused with a ConfigError while another live process on this
 * host holds it; a lock left by a dead process (or another host's, which cannot be checked, is refused) is taken over.
 */
export function lockRunFolder(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx' });
      let released = false;
      return {
        path,
        release: () => {
          if (released) return;
          released = true;
          // only our own lock is removed
          if (readOwner(path)?.pid === me.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const owner = readOwner(path);
      if (owner && (owner.host !== me.host || isAlive(owner.pid))) {
        throw new ConfigError(
          `${dir} is in use by process ${owner.pid} on ${owner.host} (since ${owner.started}): two runs cannot share a folder. Wait for it, or choose another folder (if that process is gone, delete ${path}).`,
          { details: { path, owner } },
        );
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new ConfigError(`Cannot take the lock ${path}: another process keeps taking it.`);
}
