import type { OnnxGraph } from '../graph-builder.js';

/**
 * A 0/1 placement matrix built inside the graph by `OneHot` from the column (or row) index of each 1: the
 * engine's spatial and temporal placements are one-hot along one axis, and as dense float constants they made the
 * training graph 14 MB at 50 frames (76 MB for a 750-frame input-gradient graph), most of its build and load time.
 * The indices are a few kB; ONNX Runtime folds the `OneHot` (all inputs constant) once when it creates the session.
 *
 * `index[i]` (row-major over `indexDims`) is the position of the 1 along the new axis of length `depth`, or `-1`
 * for none (padding). The result has `indexDims` with `depth` inserted at `axis`, and the given `dims` (a reshape).
 */
export function oneHotPlacement(
  g: OnnxGraph,
  index: Int32Array,
  indexDims: readonly number[],
  depth: number,
  axis: number,
  dims: readonly number[],
): string {
  // OneHot gives an all-zero row for an index outside [-depth, depth − 1]: `depth` marks "no 1".
  const indices = g.reshape(g.ints(Array.from(index, (v) => (v < 0 ? depth : v))), indexDims);
  const onehot = g.op('OneHot', [indices, g.ints([depth]), g.floats('onehot_values', Float32Array.of(0, 1), [2])], { axis });
  return g.reshape(onehot, dims);
}

/** Input position read by output position q through spatial tap ab (`[kh·kw, Q]`, −1 where the tap reads padding). */
export function spatialTapIndex(
  hIn: number,
  wIn: number,
  kh: number,
  kw: number,
  ph: readonly [number, number],
  pw: readonly [number, number],
): { index: Int32Array; hOut: number; wOut: number } {
  const hOut = hIn + ph[0] + ph[1] - kh + 1;
  const wOut = wIn + pw[0] + pw[1] - kw + 1;
  const Q = hOut * wOut;
  const index = new Int32Array(kh * kw * Q).fill(-1);
  for (let a = 0; a < kh; a++)
    for (let b = 0; b < kw; b++)
      for (let y = 0; y < hOut; y++)
        for (let x = 0; x < wOut; x++) {
          const yi = y + a - ph[0];
          const xi = x + b - pw[0];
          if (yi >= 0 && yi < hIn && xi >= 0 && xi < wIn) index[(a * kw + b) * Q + y * wOut + x] = yi * wIn + xi;
        }
  return { index, hOut, wOut };
}

/** Input frame read by output frame t' through temporal tap l (`[L, tOut]`, −1 where the tap reads padding). */
export function temporalTapIndex(L: number, tIn: number, tOut: number, padStart: number): Int32Array {
  const index = new Int32Array(L * tOut).fill(-1);
  for (let l = 0; l < L; l++)
    for (let to = 0; to < tOut; to++) {
      const ti = to + l - padStart;
      if (ti >= 0 && ti < tIn) index[l * tOut + to] = ti;
    }
  return index;
}

/** The temporal taps placed into a `[T, T']` Toeplitz matrix, `[L, T·T']` in (t, t') order (padding folded in). */
export function toeplitzPlacement(g: OnnxGraph, L: number, tIn: number, tOut: number, padStart: number): string {
  return oneHotPlacement(g, temporalTapIndex(L, tIn, tOut, padStart), [L, tOut], tIn, 1, [L, tIn * tOut]);
}
