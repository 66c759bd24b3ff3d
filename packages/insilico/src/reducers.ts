import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';

/** Reduces a response tensor along one axis (usually time) to fewer dimensions. */
export interface ResponseReducer {
  readonly axis: number;
  forward(responses: tf.Tensor): tf.Tensor;
}

function normaliseAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ConfigError(`reducer axis ${axis} is out of range for a tensor of rank ${rank}.`);
  return a;
}

/** The mean over `axis` (OpenRetina's `MeanReducer`). */
export class MeanReducer implements ResponseReducer {
  constructor(readonly axis = 0) {}

  forward(responses: tf.Tensor): tf.Tensor {
    return tf.mean(responses, normaliseAxis(this.axis, responses.rank));
  }
}

export interface SliceMeanReducerOptions {
  axis?: number;
  start: number;
  length: number;
  /** Called when the slice falls outside the responses and the fallback is used (default: `console.warn`). */
  warn?: (message: string) => void;
}

/**
 * The mean over `[start, start + min(len − start, length))` along `axis` (OpenRetina's `SliceMeanReducer`).
 * When that window is empty (`start ≥ len`), it warns and averages `[0, min(length, len))` instead.
 * `start` is mutable, as OpenRetina's `visualize` moves it to the last frames of each inner layer.
 */
export class SliceMeanReducer implements ResponseReducer {
  readonly axis: number;
  start: number;
  length: number;
  private readonly warn: (message: string) => void;

  constructor(options: SliceMeanReducerOptions) {
    this.axis = options.axis ?? 0;
    this.start = options.start;
    this.length = options.length;
    this.warn = options.warn ?? ((m) => console.warn(m));
  }

  /** The `[start, length]` window actually averaged for a response axis of `responseLength` frames. */
  window(responseLength: number): { start: number; length: number; fallback: boolean } {
    const length = Math.min(responseLength - this.start, this.length);
    if (length <= 0) return { start: 0, length: Math.min(this.length, responseLength), fallback: true };
    return { start: this.start, length, fallback: false };
  }

  forward(responses: tf.Tensor): tf.Tensor {
    const axis = normaliseAxis(this.axis, responses.rank);
    const n = responses.shape[axis]!;
    const w = this.window(n);
    if (w.fallback) {
      this.warn(
        `SliceMeanReducer: the responses have ${n} frames, too few for start ${this.start}; averaging frames [0, ${w.length}) instead.`,
      );
    }
    return tf.tidy(() => {
      const begin = responses.shape.map((_, i) => (i === axis ? w.start : 0));
      const size = responses.shape.map((d, i) => (i === axis ? w.length : d));
      return tf.mean(tf.slice(responses, begin, size), axis);
    });
  }

  toString(): string {
    return `SliceMeanReducer(axis=${this.axis}, start=${this.start}, length=${this.length})`;
  }
}
