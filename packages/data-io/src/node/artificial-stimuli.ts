import type { Movie } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { movingBarStack, type PrepareStimulusOptions, prepareStimulus, trimMovingBar } from '../artificial-stimuli.js';
import { isNdArray } from '../ndarray.js';
import { readPickleFile } from './datasets/dataset-files.js';

/**
 * OpenRetina's `load_stimulus`: reads a pickled 8-bit stimulus `(T, H, W, C)` (e.g. `RGC_Chirp_30Hz_18_16.pickle`) and
 * prepares it with {@link prepareStimulus} (frame step, two channels, trigger alignment, normalisation).
 */
export async function loadStimulus(path: string, options: PrepareStimulusOptions): Promise<Movie> {
  const frames = await readPickleFile(path);
  if (!isNdArray(frames)) throw new DataError(`${path}: expected a pickled array of frames (T, H, W, C).`);
  return prepareStimulus({ data: frames.data as ArrayLike<number>, shape: frames.shape }, options);
}

/** Options of {@link loadMovingBar} and {@link loadMovingBarStack}. */
export interface LoadMovingBarOptions {
  /** Map 8-bit values to `[-1, 1)` (default true). */
  normalize?: boolean;
  /** Trigger times (s) to align repetitions to (8 triggers per repetition; default none: one repetition). */
  triggerTimes?: ArrayLike<number> | null;
  /** Keep every n-th frame (default 1; 2 for the 60 Hz 72×64 file). */
  downsampleTFactor?: number;
}

/**
 * OpenRetina's `load_moving_bar` / `load_moving_bar_30hz_72_64px` on the given pickle (OpenRetina's own file is not
 * distributed): {@link loadStimulus} with 8 triggers per repetition, then the dark 3 s before the first and 1 s after
 * the last bar removed.
 */
export async function loadMovingBar(path: string, options: LoadMovingBarOptions = {}): Promise<Movie> {
  const movie = await loadStimulus(path, {
    normalize: options.normalize ?? true,
    numTriggersPerRepetition: 8,
    ...(options.triggerTimes ? { triggerTimes: options.triggerTimes } : {}),
    ...(options.downsampleTFactor ? { downsampleTFactor: options.downsampleTFactor } : {}),
  });
  return trimMovingBar(movie);
}

/** OpenRetina's `load_moving_bar_stack`: {@link loadMovingBar}, split into one movie per bar (default 8). */
export async function loadMovingBarStack(
  path: string,
  options: { normalize?: boolean; numberOfMovingBars?: number } = {},
): Promise<Movie[]> {
  const movie = await loadMovingBar(path, { normalize: options.normalize ?? true });
  return movingBarStack(movie, options.numberOfMovingBars ?? 8);
}
