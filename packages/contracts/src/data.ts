import type { Tensor3D, Tensor5D } from '@tensorflow/tfjs-core';

/**
 * A movie, channels-last and time-major: `shape = [T, H, W, C]`, row-major `data`.
 * Time-major storage makes a chunk of frames a contiguous sub-array (no copy per batch).
 * OpenRetina stores movies as `(C, T, H, W)`; readers and writers convert at the file edge.
 */
export interface Movie {
  readonly data: Float32Array;
  readonly shape: readonly [t: number, h: number, w: number, c: number];
}

/** Responses of N neurons over T frames, time-major: `shape = [T, N]`. OpenRetina stores `(N, T)`. */
export interface Responses {
  readonly data: Float32Array;
  readonly shape: readonly [t: number, n: number];
}

/**
 * Time-major frames read on demand (a lazily read train movie or train responses, see the generic HDF5 reader's
 * `lazyThresholdBytes`): `frames` frames of `frameSize` values each, in the layout of the eager form (a movie frame is
 * `[H, W, C]`, a response frame `[N]`). Reads are synchronous because batches are built synchronously.
 */
export interface FrameReader {
  readonly frames: number;
  readonly frameSize: number;
  /** Copies frames `[start, start + count)` into `dst` from `dstOffset` (in values). */
  readFrames(start: number, count: number, dst: Float32Array, dstOffset: number): void;
}

/** A movie `[T, H, W, C]` whose frames are read on demand instead of held in memory. */
export interface LazyMovie {
  readonly reader: FrameReader;
  readonly shape: readonly [t: number, h: number, w: number, c: number];
}

/** Responses `[T, N]` whose frames are read on demand instead of held in memory. */
export interface LazyResponses {
  readonly reader: FrameReader;
  readonly shape: readonly [t: number, n: number];
}

/** Repeated-trial responses: `shape = [trials, T, N]`. */
export interface TrialResponses {
  readonly data: Float32Array;
  readonly shape: readonly [trials: number, t: number, n: number];
}

/**
 * The stimulus side of a dataset: one training movie and named test movies (OpenRetina's `MoviesTrainTestSplit`).
 * `MovieSplit<Movie | LazyMovie>` is one whose training movie may be read on demand (what the data loaders accept).
 */
export interface MovieSplit<Train extends Movie | LazyMovie = Movie> {
  /** In memory, or read on demand ({@link LazyMovie}) when the dataset is large. */
  readonly train: Train;
  readonly test: Readonly<Record<string, Movie>>;
  readonly stimId?: string;
  /** Höfling-style clip permutations: `[repeats, clips]` indices. */
  readonly randomSequences?: { readonly data: Int32Array; readonly shape: readonly [number, number] };
  readonly normMean?: number;
  readonly normStd?: number;
}

/**
 * The response side of one session (OpenRetina's `ResponsesTrainTestSplit`). `ResponseSplit<Responses |
 * LazyResponses>` is one whose training responses may be read on demand.
 */
export interface ResponseSplit<Train extends Responses | LazyResponses = Responses> {
  /** In memory, or read on demand ({@link LazyResponses}) when the dataset is large. */
  readonly train: Train;
  readonly test: Readonly<Record<string, Responses>>;
  readonly testByTrial?: Readonly<Record<string, TrialResponses>>;
  readonly stimId?: string;
  /** Per-neuron metadata (cell types, ROI ids, ...), each array of length N. */
  readonly sessionKwargs?: Readonly<Record<string, readonly unknown[]>>;
}

/** What a model needs to know about its training data (OpenRetina's `data_info`). */
export interface DataInfo {
  readonly nNeuronsDict: Readonly<Record<string, number>>;
  /** Mean training response per neuron and session (initialises readout biases). */
  readonly meanActivityDict: Readonly<Record<string, Float32Array>>;
  /** `[C, H, W]`, as OpenRetina. */
  readonly inputShape: readonly [c: number, h: number, w: number];
  readonly sessionsKwargs?: Readonly<Record<string, Readonly<Record<string, readonly unknown[]>>>>;
  readonly stimMean?: number;
  readonly stimStd?: number;
  /** Further entries carried through from OpenRetina checkpoints (e.g. `model_cut_frames`). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** One training/evaluation batch of a session, channels-last. */
export interface SessionBatch {
  readonly session: string;
  /** `[B, T, H, W, C]` */
  readonly inputs: Tensor5D;
  /** `[B, T, N]` */
  readonly targets: Tensor3D;
}
