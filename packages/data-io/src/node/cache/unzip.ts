import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { FileFormatError } from '@openretina/contracts';
import { unzipSync } from 'fflate';
import { replaceDirectoryAtomic, writeFileAtomic } from '@openretina/formats/node';

/*
 * OpenRetina's \`unzip_and_cleanup\`: a downloaded zip becomes the folder (or file) it holds, atomically.
 */

/**
 * Extracts a zip next to itself and deletes it (OpenRetina's `unzip_and_cleanup`): a single member is extracted into
 * the zip's folder; a single top-level folder named like the zip goes into the zip's folder; anything else goes into
 * `<zip stem>/`. Extraction happens in a temp folder that is renamed into place. Returns the extracted path.
 */
export async function unzipAndCleanup(zipPath: string): Promise<string> {
  const bytes = await readFile(zipPath);
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new FileFormatError(`${zipPath}: not a valid zip archive.`, { cause: error });
  }
  const names = Object.keys(files).filter((n) => !n.startsWith('__MACOSX/'));
  const fileNames = names.filter((n) => !n.endsWith('/'));
  const parent = dirname(zipPath);
  const stem = basename(zipPath, extname(zipPath));
  let result: string;
  let inside: (name: string) => string; // archive name -> path inside the extracted result
  const single = fileNames.length === 1 && !fileNames[0]!.includes('/');
  if (single) {
    result = join(parent, fileNames[0]!);
    inside = () => '';
  } else if (names.length > 0 && names.every((n) => n.startsWith(`${stem}/`))) {
    result = join(parent, stem);
    inside = (n) => n.slice(stem.length + 1);
  } else {
    result = join(parent, stem);
    inside = (n) => n;
  }
  if (single) await writeFileAtomic(result, files[fileNames[0]!]!);
  else {
    await replaceDirectoryAtomic(result, async (staging) => {
      for (const name of fileNames) {
        const dest = resolve(staging, inside(name));
        if (!dest.startsWith(resolve(staging) + sep)) throw new FileFormatError(`${zipPath}: unsafe path "${name}" in the archive.`);
        await mkdir(dirname(dest), { recursive: true });
        await writeFile(dest, files[name]!);
      }
    });
  }
  await rm(zipPath, { force: true });
  return result;
}
