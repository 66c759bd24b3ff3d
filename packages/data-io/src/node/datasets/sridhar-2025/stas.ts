import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '@openretina/contracts';
import { parseNpy, toFloat32 } from '@openretina/formats';
import type { SridharCrop } from '../../../datasets/sridhar-2025/crop.js';
import { locationFromSta } from '../../../datasets/sridhar-2025/sta-location.js';

/** STA file name of a cell (OpenRetina's `make_file_name`). */
export const sridharStaFileName = (cell: number, retinaIndex: string): string => `cell_data_${retinaIndex}_WN_stas_cell_${cell}.npy`;

/**
 * RF locations `[row, col]` of cells from their STA files `cell_data_<retina>_WN_stas_cell_<k>.npy` in `staDir`
 * (OpenRetina's `get_locations_from_stas`; see `locationFromSta`).
 */
export async function getSridharLocationsFromStas(
  staDir: string,
  retinaIndex: string,
  cells: readonly number[],
  options: { crop?: SridharCrop; flipSta?: boolean } = {},
): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for (const cell of cells) {
    const path = join(staDir, sridharStaFileName(cell, retinaIndex));
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new DataError(`No STA for cell ${cell} of retina ${retinaIndex}: cannot read ${path}.`, { cause: error });
    }
    const a = parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
    out.push(locationFromSta({ data: toFloat32(a.data), shape: a.shape }, options));
  }
  return out;
}
