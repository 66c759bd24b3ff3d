import type { MovieSplit, ResponseSplit } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { createMovieSplit } from '../../containers.js';

/** Options of {@link sridharPlaceholderMovies}. */
export interface SridharPlaceholderOptions {
  /** Default 1. */
  channels?: number;
  /** Default 80 (the cropped natural-movie frame). */
  height?: number;
  /** Default 90. */
  width?: number;
  /** Stimulus ids are `<prefix>_<session>` (default `sridhar_2025`). */
  stimIdPrefix?: string;
  normMean?: number;
  normStd?: number;
}

/**
 * Placeholder movies for `computeDataInfo` (OpenRetina's `build_movies_from_responses`): zero movies with the train and
 * test lengths of each session's responses and the model's frame size. The zeros are not written, so the operating
 * system does not commit memory for them; a movie longer than a typed array can hold (about 4.3·10⁹ values) is an
 * error. The datasets render their own inputs; these movies only carry shapes.
 */
export function sridharPlaceholderMovies(
  responses: Readonly<Record<string, ResponseSplit>>,
  options: SridharPlaceholderOptions = {},
): Record<string, MovieSplit> {
  const c = options.channels ?? 1;
  const h = options.height ?? 80;
  const w = options.width ?? 90;
  const out: Record<string, MovieSplit> = {};
  for (const [session, r] of Object.entries(responses)) {
    const test = Object.values(r.test)[0];
    if (!test) throw new DataError(`${session}: no test responses.`);
    const make = (t: number) => {
      try {
        return { data: new Float32Array(t * h * w * c), shape: [t, h, w, c] as const };
      } catch (error) {
        throw new DataError(`${session}: a placeholder movie of ${t} frames of ${c}×${h}×${w} does not fit a typed array.`, {
          cause: error,
        });
      }
    };
    out[session] = createMovieSplit({
      train: make(r.train.shape[0]),
      test: make(test.shape[0]),
      stimId: `${options.stimIdPrefix ?? 'sridhar_2025'}_${session}`,
      normMean: options.normMean ?? 0,
      normStd: options.normStd ?? 1,
    });
  }
  return out;
}
