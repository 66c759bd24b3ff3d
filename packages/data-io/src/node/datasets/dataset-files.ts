import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError, FileFormatError } from '@openretina/contracts';
import { readPickle, toPlain } from '@openretina/formats';
import { unzipSync } from 'fflate';

/** True for an existing folder. */
export async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Finds the single file with one of `exts` in a folder (recursively), or returns `p` if it is a file. */
export async function singleFile(p: string, exts: string[], what: string): Promise<string> {
  if (!(await isDir(p))) return p;
  const found: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (exts.some((x) => e.name.endsWith(x))) found.push(join(d, e.name));
    }
  };
  await walk(p);
  if (found.length !== 1) throw new DataError(`Expected one ${what} file (${exts.join(', ')}) in ${p}, found ${found.length}.`);
  return found[0]!;
}

/** Reads a pickle, or the one pickle inside a zip, as plain values (numpy arrays become `NdArray`s). */
export async function readPickleFile(path: string): Promise<unknown> {
  const bytes = new Uint8Array(await readFile(path));
  if (path.endsWith('.zip')) {
    const files = unzipSync(bytes);
    const pkl = Object.keys(files).filter((n) => /\.(pkl|pickle)$/.test(n));
    if (pkl.length !== 1) throw new FileFormatError(`${path}: expected one pickle in the zip, found [${Object.keys(files).join(', ')}].`);
    return toPlain(readPickle(files[pkl[0]!]!, { source: `${path}:${pkl[0]}` }));
  }
  return toPlain(readPickle(bytes, { source: path }));
}
