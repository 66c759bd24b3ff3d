import type { Movie, Responses, TrialResponses } from '@openretina/contracts';
import { ShapeError, formatShape } from '@openretina/contracts';
import { toFloat32 } from '@openretina/formats';

/** Any numeric array that can be read by index. */
export type NumericArray = ArrayLike<number>;

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkLength(what: string, data: NumericArray, shape: readonly number[]): void {
  if (data.length !== product(shape)) {
    throw new ShapeError(`${what}: expected ${product(shape)} values for shape ${formatShape(shape)}, got ${data.length}.`, {
      details: { expected: shape, actualLength: data.length },
    });
  }
}

/** Makes a `Movie` and checks that `data` fits `shape` (`[T, H, W, C]`). */
export function makeMovie(data: Float32Array, shape: readonly number[]): Movie {
  if (shape.length !== 4) {
    throw new ShapeError(`A movie must be 4-D [T, H, W, C], got shape ${formatShape(shape)}.`);
  }
  checkLength('Movie', data, shape);
  return { data, shape: [shape[0]!, shape[1]!, shape[2]!, shape[3]!] };
}

/** Makes `Responses` (`[T, N]`) and checks the length. */
export function makeResponses(data: Float32Array, shape: readonly number[]): Responses {
  if (shape.length !== 2) throw new ShapeError(`Responses must be 2-D [T, N], got shape ${formatShape(shape)}.`);
  checkLength('Responses', data, shape);
  return { data, shape: [shape[0]!, shape[1]!] };
}

/**
 * Converts an OpenRetina `(C, T, H, W)` array of any numeric type (as stored in a file) to a channels-last, time-major
 * float32 `Movie` `[T, H, W, C]`, in one pass: a `toFloat32` copy first would cost a second pass over the stimulus.
 */
export function movieFromCTHW(stored: NumericArray | BigInt64Array | BigUint64Array, shape: readonly number[]): Movie {
  if (shape.length !== 4) {
    throw new ShapeError(`Expected a 4-D (C, T, H, W) stimulus, got shape ${formatShape(shape)}.`);
  }
  checkLength('Stimulus (C, T, H, W)', stored as NumericArray, shape);
  // 64-bit integers do not convert on assignment to a Float32Array; every other type does, to the same values
  const data = stored instanceof BigInt64Array || stored instanceof BigUint64Array ? toFloat32(stored) : stored;
  const [c, t, h, w] = shape as [number, number, number, number];
  const hw = h * w;
  const out = new Float32Array(data.length);
  if (c === 1) {
    for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  } else {
    for (let ci = 0; ci < c; ci++) {
      const srcBase = ci * t * hw;
      for (let p = 0; p < t * hw; p++) out[p * c + ci] = data[srcBase + p]!;
    }
  }
  return { data: out, shape: [t, h, w, c] };
}

/** `(T, H, W)` frames of one channel (any numeric type, as stored in a dataset file) as a `Movie` `[T, H, W, 1]`. */
export function movieFromTHW(data: NumericArray | BigInt64Array | BigUint64Array, shape: readonly number[]): Movie {
  if (shape.length !== 3) throw new ShapeError(`Expected (T, H, W) frames, got shape ${formatShape(shape)}.`);
  checkLength('Frames (T, H, W)', data as NumericArray, shape);
  return { data: toFloat32(data), shape: [shape[0]!, shape[1]!, shape[2]!, 1] };
}

/** Converts a `Movie` `[T, H, W, C]` to OpenRetina's `(C, T, H, W)` layout. */
export function movieToCTHW(movie: Movie): { data: Float32Array; shape: [number, number, number, number] } {
  const [t, h, w, c] = movie.shape;
  const thw = t * h * w;
  const out = new Float32Array(movie.data.length);
  if (c === 1) out.set(movie.data);
  else {
    for (let ci = 0; ci < c; ci++) {
      const dstBase = ci * thw;
      for (let p = 0; p < thw; p++) out[dstBase + p] = movie.data[p * c + ci]!;
    }
  }
  return { data: out, shape: [c, t, h, w] };
}

/** Transposes a 2-D row-major array `[rows, cols]` into a new Float32Array `[cols, rows]`. */
export function transpose2d(data: NumericArray, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]!;
  }
  return out;
}

/** Converts OpenRetina `(N, T)` responses to time-major `Responses` `[T, N]`. */
export function responsesFromNT(data: NumericArray, shape: readonly number[]): Responses {
  if (shape.length !== 2) throw new ShapeError(`Expected 2-D (N, T) responses, got shape ${formatShape(shape)}.`);
  checkLength('Responses (N, T)', data, shape);
  const [n, t] = shape as [number, number];
  return { data: transpose2d(data, n, t), shape: [t, n] };
}

/** Converts `Responses` `[T, N]` to OpenRetina's `(N, T)` layout. */
export function responsesToNT(responses: Responses): { data: Float32Array; shape: [number, number] } {
  const [t, n] = responses.shape;
  return { data: transpose2d(responses.data, t, n), shape: [n, t] };
}

/** Converts OpenRetina `(trials, N, T)` by-trial responses to `[trials, T, N]`. */
export function trialResponsesFromTrialsNT(data: NumericArray, shape: readonly number[]): TrialResponses {
  if (shape.length !== 3) {
    throw new ShapeError(`Expected 3-D (trials, N, T) responses, got shape ${formatShape(shape)}.`);
  }
  checkLength('Responses (trials, N, T)', data, shape);
  const [r, n, t] = shape as [number, number, number];
  const out = new Float32Array(r * n * t);
  for (let k = 0; k < r; k++) {
    const block = transpose2d(
      ArrayBuffer.isView(data)
        ? (data as unknown as Float32Array).subarray(k * n * t, (k + 1) * n * t)
        : Array.prototype.slice.call(data, k * n * t, (k + 1) * n * t),
      n,
      t,
    );
    out.set(block, k * n * t);
  }
  return { data: out, shape: [r, t, n] };
}

/** The number of values of one frame of a movie (`H·W·C`). */
export function frameSize(movie: Movie): number {
  return movie.shape[1] * movie.shape[2] * movie.shape[3];
}

/** Index of the first NaN in `data`, or -1. */
export function firstNaN(data: NumericArray): number {
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) return i;
  return -1;
}

/** A time-major movie `[t, h, w, c]` mirrored left-right (along the width), as `torch.flip(movie, [-1])` on `(C, T, H, W)`. */
export function flipWidth(data: Float32Array, t: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let f = 0; f < t; f++) {
    for (let y = 0; y < h; y++) {
      const row = (f * h + y) * w;
      for (let x = 0; x < w; x++) out.set(data.subarray((row + x) * c, (row + x + 1) * c), (row + (w - 1 - x)) * c);
    }
  }
  return out;
}
