import type { Movie } from '@openretina/contracts';
import { movieFromTHW } from '../../layout.js';
import { floatValues } from '../../ndarray.js';
import { getDataset, type openHdf5, readDataset } from '../hdf5.js';
import { loadDatasetFromH5 } from '../load-dataset-from-h5.js';

// The train/test HDF5 layout that the Baccus-lab (Maheswaranathan 2023) and Marre-lab (Goldin 2022) files share:
// `/train|test/stimulus (T, H, W)`, `/train|test/response/<type> (N, T)` and `/test/repeats/cell<k> (repeats, T)`.

/** A `(T, H, W)` stimulus dataset as a one-channel `Movie` `[T, H, W, 1]`. */
export async function readFrames(path: string, dataset: string): Promise<Movie> {
  const a = await loadDatasetFromH5(path, dataset);
  return movieFromTHW(a.data as ArrayLike<number>, a.shape);
}

/** The index `k` of a repeats key `cell<k>` or `cell_<k>` (OpenRetina parses the text after the last "cell"). */
const cellNumber = (key: string): number => Number(key.split('cell').pop()!.replace(/^_/, ''));

/**
 * The per-cell test repeats under `/test/repeats` (every key containing "cell", in the order of their cell numbers),
 * stacked and divided by `divisor`: `(repeats, N, T)` row-major, or undefined when there are none.
 */
export function readCellRepeats(
  file: Awaited<ReturnType<typeof openHdf5>>,
  path: string,
  divisor: number,
): { data: Float32Array; shape: [number, number, number] } | undefined {
  const group = file.get('test/repeats') as { keys?: () => string[] } | null;
  const cells = (group?.keys?.() ?? []).filter((k) => k.includes('cell')).sort((a, b) => cellNumber(a) - cellNumber(b));
  if (cells.length === 0) return undefined;
  const arrays = cells.map((k) => readDataset(getDataset(file, `test/repeats/${k}`)!, `${path}/test/repeats/${k}`));
  const [reps, t] = arrays[0]!.shape as [number, number];
  const out = new Float32Array(reps * cells.length * t);
  arrays.forEach((a, ci) => {
    const v = floatValues(a);
    for (let r = 0; r < reps; r++) for (let j = 0; j < t; j++) out[(r * cells.length + ci) * t + j] = v[r * t + j]! / divisor;
  });
  return { data: out, shape: [reps, cells.length, t] };
}
