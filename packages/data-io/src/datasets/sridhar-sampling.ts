import * as tf from '@tensorflow/tfjs-core';
import type { Movie, Responses, SessionBatch, TrialResponses } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { MT19937, maskedInterval } from '../random.js';

// ---------------------------------------------------------------- numpy's default_rng (SeedSequence + PCG64)

const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = (2549297995355413924n << 64n) + 4865540595714422341n;

/**
 * numpy's `SeedSequence(seed).generate_state(nWords, uint32)` for a non-negative integer seed (no spawn key): the
 * entropy is split into 32-bit words, mixed into a pool of 4 words, and the pool is hashed into the output words.
 */
export function seedSequenceState(seed: number | bigint, nWords: number): Uint32Array {
  let s = BigInt(seed);
  if (s < 0n) throw new RangeError(`SeedSequence entropy must be non-negative, got ${seed}.`);
  const entropy: number[] = [];
  do {
    entropy.push(Number(s & 0xffffffffn));
    s >>= 32n;
  } while (s > 0n);
  const poolSize = 4;
  let hashConst = 0x43b0d7e5;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, 0x931e8875) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool = new Array<number>(poolSize);
  for (let i = 0; i < poolSize; i++) pool[i] = hashmix(i < entropy.length ? entropy[i]! : 0);
  for (let src = 0; src < poolSize; src++) {
    for (let dst = 0; dst < poolSize; dst++) if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!));
  }
  for (let src = poolSize; src < entropy.length; src++) {
    for (let dst = 0; dst < poolSize; dst++) pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!));
  }
  const out = new Uint32Array(nWords);
  let hb = 0x8b51f9dd;
  for (let i = 0; i < nWords; i++) {
    let v = (pool[i % poolSize]! ^ hb) >>> 0;
    hb = Math.imul(hb, 0x58f38ded) >>> 0;
    v = Math.imul(v, hb) >>> 0;
    out[i] = (v ^ (v >>> 16)) >>> 0;
  }
  return out;
}

/**
 * The PCG64 bit generator behind `np.random.default_rng(seed)` (XSL-RR 128/64, seeded through `SeedSequence`), with
 * numpy's `Generator.shuffle` / `permutation` draws (bounded integers by masked rejection on buffered 32-bit halves).
 * With the same seed and calls it gives numpy's numbers exactly; it is only as fast as BigInt arithmetic allows (a few
 * million draws per second), which is plenty for shuffling sample indices.
 */
export class Pcg64 {
  private state: bigint;
  private readonly inc: bigint;
  private hasUint32 = false;
  private uinteger = 0;

  constructor(seed: number | bigint) {
    const w = seedSequenceState(seed, 8);
    const u64 = (k: number) => (BigInt(w[2 * k + 1]!) << 32n) | BigInt(w[2 * k]!);
    const initState = (u64(0) << 64n) | u64(1);
    const initSeq = (u64(2) << 64n) | u64(3);
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.state = 0n;
    this.step();
    this.state = (this.state + initState) & MASK128;
    this.step();
  }

  private step(): void {
    this.state = (this.state * PCG_MULT + this.inc) & MASK128;
  }

  /** The raw `(state, inc)` (as numpy's `bit_generator.state`). */
  get rawState(): { state: bigint; inc: bigint } {
    return { state: this.state, inc: this.inc };
  }

  /** A uniform 64-bit integer. */
  nextUint64(): bigint {
    this.step();
    const hi = this.state >> 64n;
    const lo = this.state & MASK64;
    const x = hi ^ lo;
    const rot = hi >> 58n;
    return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
  }

  /** A uniform 32-bit integer (numpy buffers the high half of a 64-bit draw for the next call). */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    const next = this.nextUint64();
    this.hasUint32 = true;
    this.uinteger = Number(next >> 32n);
    return Number(next & 0xffffffffn);
  }

  /** A uniform integer in `[0, max]` (numpy's `random_interval`, `max < 2^32`). */
  interval(max: number): number {
    if (max > 0xffffffff) throw new RangeError(`Pcg64.interval supports max < 2^32, got ${max}.`);
    return maskedInterval(max, () => this.nextUint32());
  }

  /** Shuffles in place like `Generator.shuffle` (Fisher–Yates from the last element). */
  shuffle<T>(values: T[]): T[] {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
    return values;
  }
}

// ---------------------------------------------------------------- ChunkedSampler

/**
 * OpenRetina's `ChunkedSampler` for the white-noise dataset: the sample indices `0..length-1` are cut into chunks of
 * `chunkSize` (the samples of one trial); every epoch each chunk is shuffled in place, then the chunk order is
 * shuffled, so a trial file is read once per epoch. As in OpenRetina the in-chunk shuffles act on a persistent index
 * array (epoch k+1 shuffles epoch k's order) and the stream is `np.random.default_rng(seed)` (default 8 as OpenRetina
 * hard-codes it); {@link Pcg64} reproduces numpy's draws, so the epoch orders equal OpenRetina's exactly.
 */
export class ChunkedSampler {
  readonly length: number;
  readonly chunkSize: number;
  private readonly indices: number[];
  private readonly rng: Pcg64;

  constructor(length: number, chunkSize: number, seed = 8) {
    if (!Number.isInteger(length) || length < 0)
      throw new ConfigError(`ChunkedSampler: length must be a non-negative integer, got ${length}.`);
    if (!Number.isInteger(chunkSize) || chunkSize < 1)
      throw new ConfigError(`ChunkedSampler: chunkSize must be a positive integer, got ${chunkSize}.`);
    this.length = length;
    this.chunkSize = chunkSize;
    this.indices = Array.from({ length }, (_, i) => i);
    this.rng = new Pcg64(seed);
  }

  /** The sample order of the next epoch. */
  epochIndices(): number[] {
    const numChunks = Math.ceil(this.length / this.chunkSize);
    const chunks: number[][] = [];
    for (let c = 0; c < numChunks; c++) {
      const lo = c * this.chunkSize;
      const part = this.indices.slice(lo, lo + this.chunkSize);
      this.rng.shuffle(part);
      for (let k = 0; k < part.length; k++) this.indices[lo + k] = part[k]!;
      chunks.push(part);
    }
    this.rng.shuffle(chunks);
    return chunks.flat();
  }
}

// ---------------------------------------------------------------- trial-wise split

/** Trial pairs whose frames overlap (the seeds' movies repeat); they must fall on the same side of the split. */
export const SRIDHAR_LINKED_TRIALS: readonly (readonly [number, number])[] = [
  [0, 9],
  [10, 19],
];

/** Options of {@link sridharTrialSplit}. */
export interface SridharTrialSplitOptions {
  /** Fraction of trials for training (default 0.8); `floor(n · trainFrac)` trials go to train. */
  trainFrac?: number;
  /** Seed (default 1000, as OpenRetina when the seed is null). */
  seed?: number | null;
  /** Append the validation trials to the train trials (validation stays as drawn). */
  finalTraining?: boolean;
  /** `[train, validation]` trial indices to use as given. */
  hardCoded?: readonly [readonly number[], readonly number[]];
}

/**
 * OpenRetina's `get_trial_wise_validation_split`: `np.random.seed(seed)` then `np.random.permutation(nTrials)` split at
 * `floor(nTrials · trainFrac)`, re-drawn (continuing the same stream) until trials 0 and 9, and 10 and 19, are on the
 * same side. OpenRetina's permutation comes from numpy's legacy global generator, which {@link MT19937} reproduces, so
 * the split equals OpenRetina's for the same seed (`set_seed` also seeds torch, which the split does not use).
 */
export function sridharTrialSplit(numTrials: number, options: SridharTrialSplitOptions = {}): { train: number[]; validation: number[] } {
  if (options.hardCoded) return { train: [...options.hardCoded[0]], validation: [...options.hardCoded[1]] };
  if (!Number.isInteger(numTrials) || numTrials < 0) throw new ConfigError(`numTrials must be a non-negative integer, got ${numTrials}.`);
  const frac = options.trainFrac ?? 0.8;
  if (!(frac >= 0 && frac <= 1)) throw new ConfigError(`trainFrac must be in [0, 1], got ${frac}.`);
  const rng = new MT19937((options.seed ?? 1000) >>> 0);
  const k = Math.trunc(numTrials * frac);
  const split = () => {
    const p = rng.permutation(numTrials);
    return { train: p.slice(0, k), validation: p.slice(k) };
  };
  const separated = (s: { train: number[]; validation: number[] }) => {
    const tr = new Set(s.train);
    const va = new Set(s.validation);
    return SRIDHAR_LINKED_TRIALS.some(([a, b]) => (tr.has(a) && va.has(b)) || (tr.has(b) && va.has(a)));
  };
  let s = split();
  for (let tries = 0; separated(s); tries++) {
    if (tries > 100000) throw new ConfigError(`No split of ${numTrials} trials with trainFrac ${frac} keeps the linked trials together.`);
    s = split();
  }
  return options.finalTraining ? { train: [...s.train, ...s.validation], validation: s.validation } : s;
}

/**
 * OpenRetina's `filter_trials`: keeps the trials in `[startingTrial, min(numTrials, startingTrial + numOfTrialsToUse))`
 * (all trials by default), preserving the split order.
 */
export function filterSridharTrials(
  numTrials: number,
  split: { train: readonly number[]; validation: readonly number[] },
  options: { numOfTrialsToUse?: number | null; startingTrial?: number } = {},
): { train: number[]; validation: number[] } {
  const start = options.startingTrial ?? 0;
  const use = options.numOfTrialsToUse ?? split.train.length + split.validation.length;
  const end = Math.min(numTrials, use + start);
  const keep = (t: number) => t >= start && t < end;
  return { train: split.train.filter(keep), validation: split.validation.filter(keep) };
}

// ---------------------------------------------------------------- data loader

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
    const inputs = new Float32Array(items.length * t * h * w * c);
    const targets = new Float32Array(items.length * tt * n);
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
