import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '@openretina/contracts';
import { createResponseSplit, normalizedMovieSplit } from '../../containers.js';
import { responsesFromNT, trialResponsesFromTrialsNT } from '../../layout.js';
import { floatValues } from '../../ndarray.js';
import { type ResolveOptions, resolveDataPath } from '../cache/resolve-data-path.js';
import type { SessionData } from '../generic-hdf5.js';
import { getDataset, openHdf5, readDataset } from '../hdf5.js';
import { loadDatasetFromH5 } from '../load-dataset-from-h5.js';
import { isDir } from './dataset-files.js';
import { readCellRepeats, readFrames } from './train-test-h5.js';

/** Options of {@link loadMaheswaranathan2023}. */
export interface Maheswaranathan2023Options {
  /** Default `firing_rate_20ms` (the loader default; OpenRetina's config uses 10 ms). */
  responseType?: 'firing_rate_5ms' | 'firing_rate_10ms' | 'firing_rate_20ms';
  stimType?: 'naturalscene' | 'whitenoise';
  frNormalization?: number;
  normalizeStimuli?: boolean;
  resolve?: ResolveOptions;
}

/** HuggingFace location of the Maheswaranathan 2023 data. */
export const MAHESWARANATHAN_2023_URL =
  'https://huggingface.co/datasets/open-retina/open-retina/resolve/main/baccus_lab/maheswaranathan_2023/neural_code_data.zip';

/**
 * Maheswaranathan et al. 2023 (salamander MEA): `<base>/ganglion_cell_data/<session>/<stimType>.h5` with
 * `/train/stimulus (T, H, W)`, `/test/stimulus`, `/train|test/response/<type> (N, T)` and test repeats either as
 * `/test/repeats/<type> (repeats, N, T)` or per cell `/test/repeats/cell<k> (repeats, T)` (only the per-cell branch is
 * divided by `frNormalization`, as in OpenRetina). Test responses may be one bin longer than the test movie.
 */
export async function loadMaheswaranathan2023(
  basePath: string = MAHESWARANATHAN_2023_URL,
  options: Maheswaranathan2023Options = {},
): Promise<SessionData> {
  const rt = options.responseType ?? 'firing_rate_20ms';
  const stimType = options.stimType ?? 'naturalscene';
  const fr = options.frNormalization ?? 1;
  const base = await resolveDataPath(basePath, options.resolve);
  const root = join(base, 'ganglion_cell_data');
  if (!(await isDir(root))) throw new DataError(`${root} does not exist (expected <neural_code_data>/ganglion_cell_data/<session>/).`);
  const result: SessionData = { movies: {}, responses: {} };
  for (const e of (await readdir(root, { withFileTypes: true }))
    .filter((x) => x.isDirectory())
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const dir = join(root, e.name);
    for (const file of (await readdir(dir)).filter((x) => x.endsWith(`${stimType}.h5`)).sort()) {
      const path = join(dir, file);
      const train = await loadDatasetFromH5(path, `/train/response/${rt}`);
      const test = await loadDatasetFromH5(path, `/test/response/${rt}`);
      if (train.shape[0] !== test.shape[0])
        throw new DataError(`${path}: train responses have ${train.shape[0]} neurons, test ${test.shape[0]}.`);
      const n = train.shape[0]!;
      // repeats
      const f = await openHdf5(path);
      let byTrial: { data: Float32Array; shape: [number, number, number] } | undefined;
      try {
        const direct = getDataset(f, `test/repeats/${rt}`);
        if (direct) {
          const a = readDataset(direct, `${path}/test/repeats/${rt}`);
          byTrial = { data: floatValues(a), shape: a.shape as [number, number, number] };
        } else {
          byTrial = readCellRepeats(f, path, fr);
        }
      } finally {
        f.close();
      }
      const trainStim = await readFrames(path, '/train/stimulus');
      const testStim = await readFrames(path, '/test/stimulus');
      result.movies[e.name] = normalizedMovieSplit(trainStim, testStim, options.normalizeStimuli ?? true, stimType);
      result.responses[e.name] = createResponseSplit({
        train: responsesFromNT(floatValues(train, fr), train.shape),
        test: responsesFromNT(floatValues(test, fr), test.shape),
        ...(byTrial && byTrial.shape[1] === n ? { testByTrial: trialResponsesFromTrialsNT(byTrial.data, byTrial.shape) } : {}),
        stimId: stimType,
      });
    }
  }
  return result;
}
