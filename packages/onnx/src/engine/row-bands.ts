import type { OnnxGraph } from '../graph-builder.js';
import { oneHotPlacement } from './placements.js';

/**
 * A layer's spatial stage on row bands, shared by the training graphs and the prediction graph: output row r reads
 * the kh input rows r − ph0 … (zero rows for padding), so the spatial product runs per band,
 * `Kb [I, 1, O·wOut, kh·wIn] × bands [I, hOut, kh·wIn, B·T]`, with one band kernel for all rows
 * (`Kb[i, o·wOut + x, a·wIn + w] = ws[o, i, a, w − x + pw0]`). A dense `[Q, P]` placement is mostly zeros: at the
 * bench model's stimulus layer the bands take 432·10⁶ multiply-adds per batch of 32 × 50 frames against 708·10⁶.
 * The output `[I, hOut, O, wOut·B, T]` then takes each channel pair's Toeplitz product and a sum over input
 * channels, so the order suits layers with few input channels (the stimulus layer).
 */
export interface RowBandShape {
  I: number;
  O: number;
  kh: number;
  kw: number;
  ph: readonly [number, number];
  pw: readonly [number, number];
  hIn: number;
  wIn: number;
  hOut: number;
  wOut: number;
}

/** Column of the band (`a·wIn + w`) read by output column x through spatial tap ab (`[kh·kw, wOut]`, −1 for padding). */
export function rowBandTapIndex(p: RowBandShape): Int32Array {
  const { kh, kw, wIn, wOut } = p;
  return Int32Array.from({ length: kh * kw * wOut }, (_, k) => {
    const [a, b, x] = [Math.floor(k / (kw * wOut)), Math.floor(k / wOut) % kw, k % wOut];
    const w = x + b - p.pw[0];
    return w >= 0 && w < wIn ? a * wIn + w : -1;
  });
}

/** The one-hot placement of the spatial taps into a band kernel, `[kh·kw, wOut·kh·wIn]`. */
export function rowBandPlacement(g: OnnxGraph, p: RowBandShape): string {
  const kk = p.kh * p.kw;
  const band = p.kh * p.wIn;
  return oneHotPlacement(g, rowBandTapIndex(p), [kk, p.wOut], band, 2, [kk, p.wOut * band]);
}

/** The band kernel `Kb [I, 1, O·wOut, kh·wIn]` of the spatial weights `ws [O, I, kh, kw]` (see {@link rowBandPlacement}). */
export function rowBandKernel(g: OnnxGraph, ws: string, p: RowBandShape, placement: string): string {
  const wsIO = g.reshape(g.transpose(ws, [1, 0, 2, 3]), [p.I * p.O, p.kh * p.kw]);
  return g.reshape(g.matmul(wsIO, placement), [p.I, 1, p.O * p.wOut, p.kh * p.wIn]);
}

/**
 * Each channel pair's temporal kernel `wt [O, I, L]` as its `[T, T']` Toeplitz matrix, `[I, O, T, T']`, through
 * the placement `[L, T·T']` of {@link toeplitzPlacement}.
 */
export function pairToeplitz(
  g: OnnxGraph,
  wt: string,
  placement: string,
  p: { I: number; O: number; L: number; tIn: number; tOut: number },
): string {
  return g.reshape(g.matmul(g.reshape(g.transpose(wt, [1, 0, 2]), [p.I * p.O, p.L]), placement), [p.I, p.O, p.tIn, p.tOut]);
}

/** The row bands `[I, hOut, kh·wIn, B·T]` of a time-last input `[I, P·B, T]` (any shape with that memory order). */
export function gatherRowBands(g: OnnxGraph, tl: string, p: RowBandShape): string {
  const rows =
    p.ph[0] + p.ph[1] > 0
      ? g.op('Pad', [g.reshape(tl, [p.I, p.hIn, -1]), g.ints([0, p.ph[0], 0, 0, p.ph[1], 0])])
      : g.reshape(tl, [p.I, p.hIn, -1]);
  const bandRows = g.reshape(g.ints(Array.from({ length: p.hOut * p.kh }, (_, k) => Math.floor(k / p.kh) + (k % p.kh))), [p.hOut, p.kh]);
  return g.reshape(g.op('Gather', [rows, bandRows], { axis: 1 }), [p.I, p.hOut, p.kh * p.wIn, -1]);
}

/**
 * `Σ_i x[i]` over the first axis (size `n`), flattened: a row of ones `[1, n]` times `x` as `[n, rest]`. onnxruntime's
 * ReduceSum over a leading axis of 2 took 2.1 ms of one thread for the stimulus layer's `[2, 8, 16, 192, 30]`
 * products; slices and an Add ~0.3 ms of two threads (the slices copy both halves); this product ~0.1. With n = 2 it
 * rounds as the Add does (`1·a + 1·b`, one rounding).
 */
export function sumOfFirst(g: OnnxGraph, x: string, n: number): string {
  return g.matmul(g.floats('ones', new Float32Array(n).fill(1), [1, n]), g.reshape(x, [n, -1])); // [1, rest]
}

/**
 * The forward of a row-band layer up to its BatchNorm: the bands' spatial product, each pair's Toeplitz product
 * (`Mt [I, O, T, T']`, or with a folded scale) and the sum over input channels, as time-last `[O, Q·B, T']`. Returns
 * the spatial products `[I, hOut, O, wOut·B, T]` too (the training graph's weight gradients read them).
 */
export function rowBandConv(
  g: OnnxGraph,
  K: string,
  bands: string,
  Mt: string,
  p: RowBandShape & { tIn: number; tOut: number },
): { conv: string; stage1: string } {
  const { I, O, hOut } = p;
  const stage1 = g.reshape(g.matmul(K, bands), [I, hOut, O, -1, p.tIn]); // [I, hOut, O, wOut·B, T]
  const st = g.matmul(stage1, g.reshape(Mt, [I, 1, O, p.tIn, p.tOut])); // [I, hOut, O, wOut·B, T']
  const summed = I === 1 ? st : sumOfFirst(g, st, I); // [hOut, O, wOut·B, T'] in memory order
  const conv = g.reshape(g.transpose(g.reshape(summed, [hOut, O, -1]), [1, 0, 2]), [O, -1, p.tOut]); // [O, Q·B, T']
  return { conv, stage1 };
}
