import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MovieSplit, ResponseSplit } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { readPickle, toPlain } from '@openretina/formats';
import { sridharPlaceholderMovies } from '../../../datasets/sridhar-2025/placeholder-movies.js';
import type { NdArray } from '../../../ndarray.js';
import { type ResolveOptions, resolveDataPath } from '../../cache/resolve-data-path.js';

/**
 * Placeholder movies with the lengths of the response pickles (OpenRetina's `build_movies_from_responses`): train
 * frames = `frames_per_trial × trials` (trials of `stimulusSeed` when the pickle lists `seeds`), test frames = the
 * test responses' length; zeros of `[T, height, width, channels]`.
 */
export async function buildSridharMoviesFromResponses(
  basePath: string,
  responseFiles: Readonly<Record<string, string>>,
  options: {
    channels?: number;
    height?: number;
    width?: number;
    stimIdPrefix?: string;
    stimulusSeed?: number;
    normMean?: number;
    normStd?: number;
    resolve?: ResolveOptions;
  } = {},
): Promise<Record<string, MovieSplit>> {
  const base = await resolveDataPath(basePath, options.resolve);
  const seed = options.stimulusSeed ?? 0;
  const lengths: Record<string, ResponseSplit> = {};
  for (const session of Object.keys(responseFiles)) {
    const path = join(base, responseFiles[session]!);
    const obj = toPlain(readPickle(new Uint8Array(await readFile(path)), { source: path })) as Record<string, unknown>;
    const train = obj.train_responses as NdArray | undefined;
    const test = obj.test_responses as NdArray | undefined;
    if (train?.shape?.length !== 3 || !test?.shape)
      throw new DataError(`${path}: expected train_responses (N, frames_per_trial, trials) and test_responses.`);
    let trials = train.shape[2]!;
    const seeds = Array.isArray(obj.seeds) ? (obj.seeds as unknown[]).map(Number) : undefined;
    if (seeds?.includes(seed)) trials = ((obj.trial_separation as Record<string, unknown[]>)[String(seed)] ?? []).length;
    // shapes only: one-neuron stand-ins with the right lengths
    const tTrain = train.shape[1]! * trials;
    const tTest = test.shape[1]!;
    lengths[session] = {
      train: { data: new Float32Array(tTrain), shape: [tTrain, 1] },
      test: { test: { data: new Float32Array(tTest), shape: [tTest, 1] } },
    };
  }
  return sridharPlaceholderMovies(lengths, {
    ...(options.channels !== undefined ? { channels: options.channels } : {}),
    ...(options.height !== undefined ? { height: options.height } : {}),
    ...(options.width !== undefined ? { width: options.width } : {}),
    ...(options.stimIdPrefix !== undefined ? { stimIdPrefix: options.stimIdPrefix } : {}),
    ...(options.normMean !== undefined ? { normMean: options.normMean } : {}),
    ...(options.normStd !== undefined ? { normStd: options.normStd } : {}),
  });
}
