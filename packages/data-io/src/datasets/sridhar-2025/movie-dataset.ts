import type { Movie } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { SRIDHAR_2025 } from './constants.js';
import type { SridharFixation } from './fixations.js';
import { renderSridharMovie, type SridharFrames, type SridharRenderOptions } from './render.js';

/** Options of {@link SridharMovieDataset}. */
export interface SridharMovieDatasetOptions extends SridharRenderOptions {
  split: 'train' | 'test';
  /** Train trials of this split (required for train/validation splits). */
  trialIndices?: readonly number[];
  /** Target frames per sample (default 100). */
  timeChunkSize?: number;
  /** Extra input frames before the targets (see {@link sridharFrameOverhead}). */
  frameOverhead: number;
  /** Fixation lines of the test movie, which come first in the fixation file (default 5100). */
  testFrames?: number;
}

/**
 * Time chunks of the Sridhar natural movie (OpenRetina's `MarmosetMovieDataset`): a sample has
 * `timeChunkSize + frameOverhead` input frames rendered from the fixation lines and `timeChunkSize` target frames
 * (already aligned, so no lag is cut in the loss). Train trial `j` uses fixation lines `testFrames + framesPerTrial·j …`;
 * the test split uses the first lines. Each trial gives `floor((framesPerTrial − overhead) / timeChunkSize)` samples.
 * Responses: the train matrix `[trials·framesPerTrial, N]` (trial after trial) and the test average `[T, N]`.
 */
export class SridharMovieDataset {
  readonly chunksPerTrial: number;
  readonly frameShape: readonly [number, number, number];
  private readonly trials: readonly number[];
  private readonly chunk: number;

  constructor(
    private readonly frames: SridharFrames,
    private readonly fixations: readonly SridharFixation[],
    private readonly responses: {
      train: { data: Float32Array; shape: readonly [number, number] };
      test: { data: Float32Array; shape: readonly [number, number] };
      framesPerTrial: number;
    },
    private readonly options: SridharMovieDatasetOptions,
  ) {
    this.chunk = options.timeChunkSize ?? 100;
    const imgs = options.split === 'test' ? responses.test.shape[0] : responses.framesPerTrial;
    this.chunksPerTrial = Math.floor((imgs - options.frameOverhead) / this.chunk);
    if (options.split === 'train' && options.trialIndices === undefined)
      throw new ConfigError('trialIndices are required for the train and validation splits.');
    this.trials = options.split === 'test' ? [0] : options.trialIndices!;
    const probe = renderSridharMovie(frames, fixations.slice(0, 1), options);
    this.frameShape = [probe.shape[1], probe.shape[2], 1];
  }

  get length(): number {
    return this.trials.length * this.chunksPerTrial;
  }

  get nNeurons(): number {
    return this.responses.train.shape[1];
  }

  /** Sample `item`: inputs `[chunk + overhead, h, w, 1]`, targets `[chunk, N]`. */
  get(item: number): { inputs: Movie; targets: { data: Float32Array; shape: [number, number] } } {
    if (!Number.isInteger(item) || item < 0 || item >= this.length) throw new DataError(`Sample ${item} is outside [0, ${this.length}).`);
    const trial = this.trials[Math.floor(item / this.chunksPerTrial)]!;
    const start = (item % this.chunksPerTrial) * this.chunk;
    const span = this.chunk + this.options.frameOverhead;
    const test = this.options.split === 'test';
    const line0 = test ? start : start + (this.options.testFrames ?? SRIDHAR_2025.testDataFrames) + this.responses.framesPerTrial * trial;
    const fix = this.fixations.slice(line0, line0 + span);
    if (fix.length < span)
      throw new DataError(`Sample ${item} needs fixation lines [${line0}, ${line0 + span}); the file has ${this.fixations.length}.`);
    const inputs = renderSridharMovie(this.frames, fix, this.options);
    const n = this.nNeurons;
    const src = test ? this.responses.test.data : this.responses.train.data;
    const rowBase = test ? 0 : trial * this.responses.framesPerTrial;
    const a = rowBase + start + this.options.frameOverhead;
    return { inputs, targets: { data: src.slice(a * n, (a + this.chunk) * n), shape: [this.chunk, n] } };
  }
}
