import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '@openretina/contracts';
import { roundToFloat16, toFloat32 } from '@openretina/formats';
import type { SridharFrames } from '../../../datasets/sridhar-2025/render.js';
import { type ResolveOptions, resolveDataPath } from '../../cache/resolve-data-path.js';
import { readNpyFile } from '../../npy-fs.js';

/**
 * Loads the natural-movie frames `*<frameFile>*.npy` of a folder (sorted by name) as OpenRetina's `load_frames`:
 * each `(W, H)` frame divided by 255 and stored in float16 precision.
 */
export async function loadSridharFrames(
  dir: string,
  options: { frameFile?: string; resolve?: ResolveOptions } = {},
): Promise<SridharFrames> {
  const local = await resolveDataPath(dir, options.resolve);
  const names = (await readdir(local)).filter((x) => x.includes(options.frameFile ?? '_img_')).sort();
  if (names.length === 0) throw new DataError(`No frames (*${options.frameFile ?? '_img_'}*) in ${local}.`);
  let fullW = 0;
  let fullH = 0;
  let data = new Float32Array(0);
  for (let i = 0; i < names.length; i++) {
    const a = await readNpyFile(join(local, names[i]!));
    if (i === 0) {
      [fullW, fullH] = a.shape as [number, number];
      data = new Float32Array(names.length * fullW * fullH);
    } else if (a.shape[0] !== fullW || a.shape[1] !== fullH) {
      throw new DataError(`${names[i]}: frame shape [${a.shape.join(', ')}] differs from [${fullW}, ${fullH}].`);
    }
    const v = toFloat32(a.data);
    const off = i * fullW * fullH;
    for (let j = 0; j < v.length; j++) data[off + j] = roundToFloat16(v[j]! / 255);
  }
  return { data, count: names.length, fullW, fullH };
}
