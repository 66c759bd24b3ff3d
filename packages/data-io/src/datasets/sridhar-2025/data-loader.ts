import * as tf from '@tensorflow/tfjs-core';
import type { Movie, Responses, SessionBatch, TrialResponses } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { MT19937 } from '../../random/mt19937.js';
import { batchArray } from '../../loaders/batch-arrays.js';
import { ChunkedSampler } from './chunked-sampler.js';

/** One sample of a Sridhar dataset: `inputs` `[chunk + overhead, h, w, 1]`, `targets` `[chunk, N]`. */
export interface SridharSample {
  inputs: Movie;
  targets: { data: Float32Array; shape: [number, number] };
}

/** What {@link SridharDataLoader} batches: the natural-movie and the white-noise datasets. */
export interface SridharSampleSource {
  readonly length: number;
  readonly nNeurons: number;
  /** Samples per trial (the chunk size of {@link ChunkedSampler}). */
  readonly chunksPerTrial: number;
  get(item: number): SridharSample;
}

/** How a {@link SridharDataLoader} orders samples: in order, shuffled every epoch, or by {@link ChunkedSampler}. */
export type SridharSampling = 'sequential' | 'shuffle' | 'chunked';

/** Options of {@link SridharDataLoader}. */
export interface SridharDataLoaderOptions {
  batchSize: number;
  /** Default `'sequential'`. */
  sampling?: SridharSampling;
  /** Seed of the `'shuffle'` stream (default 42) or of the `'chunked'` sampler (default 8, as OpenRetina). */
  seed?: number;
  /** Session name put on every batch (default `"session"`). */
  session?: string;
  /** Averaged test responses `[T, N]` (test loaders; OpenRetina's `dataset.responses`). */
  testResponses?: Responses;
  /** By-trial test responses `[trials, T, N]` (test loaders). */
  testResponsesByTrial?: TrialResponses;
}

/**
 * Batches of a Sridhar dataset as `SessionBatch`es: inputs `[B, chunk + overhead, h, w, 1]`, targets `[B, chunk, N]`
 * (the targets are already aligned to the last `chunk` input frames). Like torch's `DataLoader` without `drop_last`:
 * the last batch may be smaller. The caller owns (and disposes) the batch tensors. `'shuffle'` draws a new permutation
 * from our own seeded {@link MT19937} stream every epoch (OpenRetina uses torch's generator, which is not reproduced:
 * same sample counts and batch sizes, other permutations); `'chunked'` is {@link ChunkedSampler} (numpy-exact).
 */
export class SridharDataLoader implements Iterable<SessionBatch> {
  readonly dataset: SridharSampleSource;
  readonly batchSize: number;
  readonly sampling: SridharSampling;
  readonly session: string;
  readonly testResponses: Responses | undefined;
  readonly testResponsesByTrial: TrialResponses | undefined;
  private readonly rng: MT19937 | undefined;
  private readonly chunked: ChunkedSampler | undefined;

  constructor(dataset: SridharSampleSource, options: SridharDataLoaderOptions) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1)
      throw new ConfigError(`batchSize must be a positive integer, got ${options.batchSize}.`);
    this.dataset = dataset;
    this.batchSize = options.batchSize;
    this.sampling = options.sampling ?? 'sequential';
    this.session = options.session ?? 'session';
    this.testResponses = options.testResponses;
    this.testResponsesByTrial = options.testResponsesByTrial;
    if (this.sampling === 'shuffle') this.rng = new MT19937((options.seed ?? 42) >>> 0);
    if (this.sampling === 'chunked')
      this.chunked = new ChunkedSampler(dataset.length, Math.max(1, dataset.chunksPerTrial), options.seed ?? 8);
  }

  /** Batches per epoch. */
  get length(): number {
    return Math.ceil(this.dataset.length / this.batchSize);
  }

  get nNeurons(): number {
    return this.dataset.nNeurons;
  }

  /** The sample order of the next epoch (advances the random stream). */
  epochIndices(): number[] {
    if (this.chunked) return this.chunked.epochIndices();
    if (this.rng) return this.rng.permutation(this.dataset.length);
    return Array.from({ length: this.dataset.length }, (_, i) => i);
  }

  /** The batch of the given samples; the caller owns the tensors. */
  batchAt(items: readonly number[]): SessionBatch {
    if (items.length === 0) throw new DataError('batchAt: no samples.');
    const samples = items.map((i) => this.dataset.get(i));
    const [t, h, w, c] = samples[0]!.inputs.shape;
    const [tt, n] = samples[0]!.targets.shape;
    const inputs = batchArray(0, items.length * t * h * w * c);
    const targets = batchArray(1, items.length * tt * n);
    samples.forEach((s, b) => {
      if (s.inputs.data.length !== t * h * w * c || s.targets.data.length !== tt * n) {
        throw new DataError(
          `Sample ${items[b]} has inputs [${s.inputs.shape.join(', ')}] and targets [${s.targets.shape.join(', ')}]; the batch has [${t}, ${h}, ${w}, ${c}] and [${tt}, ${n}].`,
        );
      }
      inputs.set(s.inputs.data, b * t * h * w * c);
      targets.set(s.targets.data, b * tt * n);
    });
    return {
      session: this.session,
      inputs: tf.tensor5d(inputs, [items.length, t, h, w, c]),
      targets: tf.tensor3d(targets, [items.length, tt, n]),
    };
  }

  *[Symbol.iterator](): Iterator<SessionBatch> {
    const order = this.epochIndices();
    for (let i = 0; i < order.length; i += this.batchSize) yield this.batchAt(order.slice(i, i + this.batchSize));
  }
}
