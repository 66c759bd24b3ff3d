import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '@openretina/contracts';
import { createResponseSplit, normalizedMovieSplit } from '../../containers.js';
import { responsesFromNT, trialResponsesFromTrialsNT } from '../../layout.js';
import { floatValues } from '../../ndarray.js';
import { type ResolveOptions, resolveDataPath } from '../cache/resolve-data-path.js';
import type { SessionData } from '../generic-hdf5.js';
import { openHdf5 } from '../hdf5.js';
import { loadDatasetFromH5 } from '../load-dataset-from-h5.js';
import { readCellRepeats, readFrames } from './train-test-h5.js';

/** Options of {@link loadGoldin2022}. */
export interface Goldin2022Options {
  specie?: 'mouse' | 'axolotl';
  /** Responses are divided by this (default 0.3: counts over 300 ms → rate). */
  frNormalization?: number;
  normalizeStimuli?: boolean;
  resolve?: ResolveOptions;
}

/** HuggingFace location of the Goldin 2022 data. */
export const GOLDIN_2022_URL = 'https://huggingface.co/datasets/open-retina/open-retina/tree/main/marre_lab/goldin_2022';

/**
 * Goldin et al. 2022 (flashed images; one "frame" per image): per session `<name>.h5` (name containing the species)
 * with `/train|test/stimulus (n, H, W)`, `/train|test/response/binned (N, n)` and `/test/repeats/cell_<k>
 * (repeats, n_test)`; responses divided by `frNormalization`. Checks that the test responses are the mean of the
 * repeats. Use `multipleMoviesDataloaders` with clip 1, chunk 1, 640 validation clips, batch 16, no boundary crossing.
 */
export async function loadGoldin2022(basePath: string = GOLDIN_2022_URL, options: Goldin2022Options = {}): Promise<SessionData> {
  const specie = options.specie ?? 'mouse';
  const fr = options.frNormalization ?? 0.3;
  const base = await resolveDataPath(basePath, options.resolve);
  const result: SessionData = { movies: {}, responses: {} };
  for (const file of (await readdir(base)).filter((x) => x.includes(specie) && x.endsWith('.h5')).sort()) {
    const path = join(base, file);
    const session = file.slice(0, -3);
    const train = await loadDatasetFromH5(path, '/train/response/binned');
    const test = await loadDatasetFromH5(path, '/test/response/binned');
    if (train.shape[0] !== test.shape[0])
      throw new DataError(`${path}: train responses have ${train.shape[0]} neurons, test ${test.shape[0]}.`);
    const n = train.shape[0]!;
    const testNT = floatValues(test, fr);
    let byTrial: ReturnType<typeof trialResponsesFromTrialsNT> | undefined;
    const f = await openHdf5(path);
    try {
      const repeats = readCellRepeats(f, path, fr);
      if (repeats) {
        const [reps, cellCount, t] = repeats.shape;
        if (cellCount !== n || t !== test.shape[1])
          throw new DataError(
            `${path}: the test repeats are [${reps}, ${cellCount}, ${t}] (repeats, N, T); the test responses (N, T) are [${test.shape.join(', ')}].`,
          );
        byTrial = trialResponsesFromTrialsNT(repeats.data, repeats.shape);
        // test must equal the mean over repeats
        for (let j = 0; j < t; j++) {
          for (let i = 0; i < n; i++) {
            let m = 0;
            for (let r = 0; r < reps; r++) m += byTrial.data[(r * t + j) * n + i]!;
            m /= reps;
            const avg = testNT[i * t + j]!;
            if (Math.abs(m - avg) > 1e-8 + 1e-5 * Math.abs(avg))
              throw new DataError(`${path}: the test responses are not the mean of the repeats (neuron ${i}, image ${j}: ${avg} vs ${m}).`);
          }
        }
      }
    } finally {
      f.close();
    }
    result.responses[session] = createResponseSplit({
      train: responsesFromNT(floatValues(train, fr), train.shape),
      test: responsesFromNT(testNT, test.shape),
      ...(byTrial ? { testByTrial: byTrial } : {}),
      stimId: 'naturalscene',
    });
    const trainStim = await readFrames(path, '/train/stimulus');
    const testStim = await readFrames(path, '/test/stimulus');
    result.movies[session] = normalizedMovieSplit(trainStim, testStim, options.normalizeStimuli ?? true, 'naturalscene');
  }
  if (Object.keys(result.movies).length === 0) throw new DataError(`No ${specie} sessions (*.h5 containing "${specie}") in ${base}.`);
  return result;
}
