import { MT19937 } from '../random/mt19937.js';

/*
 * Which chunks of a movie a batch takes: OpenRetina's shifted start indices that stay inside their scene, and the
 * sampler that orders (and for training shuffles) them per epoch.
 */

/** A data split name as OpenRetina spells them. */
export type SplitName = 'train' | 'validation' | 'val' | 'test';

/**
 * Start indices shifted at random but kept inside their scene (OpenRetina's `gen_shifts_with_boundaries`).
 * Each start index gets a shift drawn from `[0, floor(chunk / 2))`; a shifted chunk that would cross the next scene
 * boundary keeps its original start, a chunk that already crosses it is moved back to end on the boundary, and the
 * last chunk never passes the final bound. (With `chunk < 2` the shift range is empty and every shift is 0.)
 */
export function genShiftsWithBoundaries(
  clipBounds: readonly number[],
  startIndices: readonly number[],
  chunkSize: number,
  rng: MT19937,
): number[] {
  const half = Math.floor(chunkSize / 2);
  const shifts = startIndices.map(() => (half > 0 ? rng.randint(0, half) : 0));
  const nextBound = (value: number): number => {
    // first bound strictly greater than value (bisect_right), or the last bound
    let lo = 0;
    let hi = clipBounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (clipBounds[mid]! <= value) lo = mid + 1;
      else hi = mid;
    }
    return clipBounds[Math.min(lo, clipBounds.length - 1)]!;
  };
  const out = startIndices.map((start, i) => {
    const bound = nextBound(start);
    if (start + shifts[i]! + chunkSize < bound) return start + shifts[i]!;
    if (start + chunkSize > bound) return bound - chunkSize;
    return start;
  });
  const last = clipBounds[clipBounds.length - 1]!;
  if (out.length > 0 && out[out.length - 1]! + chunkSize > last) out[out.length - 1] = last - chunkSize;
  return out;
}

/** Options of {@link MovieSampler}. */
export interface MovieSamplerOptions {
  split: SplitName;
  chunkSize: number;
  movieLength: number;
  sceneLength: number;
  allowOverBoundaries?: boolean;
  /** Seed of this sampler's own random stream (default 42). */
  seed?: number;
}

/**
 * Chooses the chunk start indices of one epoch (OpenRetina's `MovieSampler`). For `train` (when the scene length
 * differs from the chunk size) every start index is shifted at random, in `[0, chunk)` and clipped to
 * `movieLength − chunk` with `allowOverBoundaries`, otherwise with {@link genShiftsWithBoundaries}; then the order is
 * shuffled. Validation and test indices are used as given, in order. Every call of {@link epochIndices} draws anew.
 */
export class MovieSampler {
  readonly indices: readonly number[];
  readonly split: SplitName;
  readonly chunkSize: number;
  readonly movieLength: number;
  readonly sceneLength: number;
  readonly allowOverBoundaries: boolean;
  private readonly rng: MT19937;

  constructor(startIndices: readonly number[], options: MovieSamplerOptions) {
    this.indices = [...startIndices];
    this.split = options.split;
    this.chunkSize = options.chunkSize;
    this.movieLength = options.movieLength;
    this.sceneLength = options.sceneLength;
    this.allowOverBoundaries = options.allowOverBoundaries ?? false;
    this.rng = new MT19937((options.seed ?? 42) >>> 0);
  }

  get length(): number {
    return this.indices.length;
  }

  /** The start indices of the next epoch, in the order they are served. */
  epochIndices(): number[] {
    if (this.split !== 'train' || this.sceneLength === this.chunkSize) return [...this.indices];
    let shifted: number[];
    if (this.allowOverBoundaries) {
      const shifts = this.indices.map(() => this.rng.randint(0, this.chunkSize));
      shifted = this.indices.map((s, i) => Math.min(s + shifts[i]!, this.movieLength - this.chunkSize));
    } else {
      const bounds: number[] = [];
      for (let b = 0; b <= this.movieLength; b += this.sceneLength) bounds.push(b);
      shifted = genShiftsWithBoundaries(bounds, this.indices, this.chunkSize, this.rng);
    }
    const order = this.rng.permutation(this.indices.length);
    return order.map((i) => shifted[i]!);
  }
}
