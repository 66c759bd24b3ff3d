import type { MovieSplit } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { createMovieSplit } from '../../containers.js';
import { movieFromCTHW } from '../../layout.js';
import { type NdArray, isNdArray, toNumberArray } from '../../ndarray.js';
import { fieldScalar } from './fields.js';

/** A `MovieSplit` from an unpickled Höfling stimulus dict (`train`, `test`, `random_sequences`, `movie_stats`). */
export function hoeflingMoviesFromPickle(obj: unknown, source = 'pickle'): MovieSplit {
  const d = obj as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || !isNdArray(d.train) || !isNdArray(d.test)) {
    throw new DataError(`${source}: expected a dict with "train" and "test" arrays.`);
  }
  const toMovie = (a: NdArray) => movieFromCTHW(a.data as ArrayLike<number>, a.shape);
  const stats = ((d.movie_stats as Record<string, unknown> | undefined)?.dichromatic ?? {}) as Record<string, unknown>;
  const statValue = (v: unknown) => (v === undefined ? NaN : Number(fieldScalar(v)));
  let randomSequences: MovieSplit['randomSequences'];
  if (isNdArray(d.random_sequences)) {
    const rs = d.random_sequences;
    randomSequences = { data: Int32Array.from(toNumberArray(rs.data)), shape: [rs.shape[0]!, rs.shape[1] ?? 1] };
  }
  return createMovieSplit({
    train: toMovie(d.train),
    test: toMovie(d.test),
    ...(randomSequences ? { randomSequences } : {}),
    normMean: statValue(stats.mean),
    normStd: statValue(stats.sd),
  });
}
