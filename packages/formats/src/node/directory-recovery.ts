import { readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/*
 * Crash recovery of the folder swaps of `replaceDirectoryAtomic`. A swap builds the new folder under a staging name,
 * moves the old folder aside, and renames the staging folder into place. Both names carry the writer's pid
 * (`.<name>.<pid>.<hex>.tmp` and `.<name>.<pid>.<hex>.tmp.old`), so the leftovers of a writer that was killed can be
 * told from the work of a writer that is still running, which is never touched.
 */

/** What {@link recoverDirectory} did. */
export interface DirectoryRecovery {
  /** The aside folder that was renamed back to the target (the target was missing), if any. */
  restored?: string;
  /** Leftovers of dead writers that were removed (stale asides, staging folders, temp files). */
  removed: string[];
}

/** A leftover of a writer of `name`: its pid, and whether it is the old folder moved aside. */
function parseLeftover(entry: string, name: string): { pid: number; aside: boolean } | undefined {
  const prefix = `.${name}.`;
  if (!entry.startsWith(prefix)) return undefined;
  const m = /^(\d+)\.[0-9a-f]+\.tmp(\.old)?$/.exec(entry.slice(prefix.length));
  return m ? { pid: Number(m[1]), aside: m[2] !== undefined } : undefined;
}

/** Whether process `pid` exists (signal 0 sends nothing; EPERM means it exists under another user). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function modifiedMs(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/**
 * Repairs what a killed `replaceDirectoryAtomic` (or atomic file write) of `dir` left behind, looking only at
 * leftovers of writers that are no longer running (on this host): when `dir` is missing, the old folder moved aside
 * is renamed back (a writer killed between its two renames); an aside next to a complete `dir` is removed (killed
 * after the swap); staging folders and temp files are removed (killed while filling). Leftovers of live processes,
 * this one included, are left alone. Called by `replaceDirectoryAtomic` before a swap, and by readers (checkpoint
 * loading, cache lookup) before they look at `dir`. Synchronous, so that synchronous readers can call it too.
 */
export function recoverDirectory(dir: string): DirectoryRecovery {
  const target = resolve(dir);
  const parent = dirname(target);
  const name = basename(target);
  const result: DirectoryRecovery = { removed: [] };
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return result; // no parent folder: nothing was ever written here
  }
  const dead = entries.flatMap((entry) => {
    const leftover = parseLeftover(entry, name);
    return leftover && !isAlive(leftover.pid) ? [{ path: join(parent, entry), aside: leftover.aside }] : [];
  });
  const asides = dead.filter((d) => d.aside).sort((a, b) => modifiedMs(b.path) - modifiedMs(a.path));
  if (asides.length > 0 && statSync(target, { throwIfNoEntry: false }) === undefined) {
    renameSync(asides[0]!.path, target);
    result.restored = asides.shift()!.path;
  }
  for (const d of [...asides, ...dead.filter((x) => !x.aside)]) {
    rmSync(d.path, { recursive: true, force: true });
    result.removed.push(d.path);
  }
  return result;
}
