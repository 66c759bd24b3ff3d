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

/** Repeated-trial responses: `shape = [trials, T, N]`. */
export interface TrialResponses {
  readonly data: Float32Array;
  readonly shape: readonly [trials: number, t: number, n: number];
}

/** The stimulus side of a dataset: one training movie and named test movies (OpenRetina's `MoviesTrainTestSplit`). */
export interface MovieSplit {
  readonly train: Movie;
  readonly test: Readonly<Record<string, Movie>>;
  readonly stimId?: string;
  /** Höfling-style clip permutations: `[repeats, clips]` indices. */
  readonly randomSequences?: { readonly data: Int32Array; readonly shape: readonly [number, number] };
  readonly normMean?: number;
  readonly normStd?: number;
}

/** The response side of one session (OpenRetina's `ResponsesTrainTestSplit`). */
export interface ResponseSplit {
  readonly train: Responses;
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
