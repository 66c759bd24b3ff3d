import { ConfigError } from '@openretina/contracts';
import { OnnxGraph } from '../graph-builder.js';
import { positionsLastToTimeLast } from './layout-change.js';
import { oneHotPlacement, spatialTapIndex, toeplitzPlacement } from './placements.js';
import { gatherRowBands, pairToeplitz, rowBandConv, rowBandKernel, rowBandPlacement, type RowBandShape } from './row-bands.js';
import { NEURONS, eluWithSlope, engineNames as n, type EnginePlan } from './training-graph.js';

/**
 * The eval-mode forward of a space-time separable core + linear readout as GEMMs, shared by the engine's predict
 * graph (fixed stimulus length; its matrices are inputs, computed from the weights by a small separate graph) and the
 * exporter's `gemm` form (dynamic batch and length, matrices as constants).
 *
 * Each (out, in) kernel of a layer is rank 1 (temporal × spatial), so a layer is two stages: a batched MatMul over
 * the channel pairs, then a MatMul per output channel that contracts input channels together with the second
 * stage's taps (no ReduceSum). Time is cut into blocks of `Tb` output frames, each read from a window of
 * `Tb + L − 1` input frames (on the last axis two reshaped slices of the padded input, concatenated; on an outer
 * axis one Gather of the frames), so the cost stays linear in the stimulus length; one block (`Tb ≥ T'`) is the
 * plain `[T, T']` Toeplitz product. Two orders, per layer:
 * - `temporal-first` on the layout `[1, C, H·W·B, T]` (time last): the window `[.., Tb + L − 1]` times the banded
 *   Toeplitz `Mt [O, I, Tb + L − 1, Tb]`, then `K [O, Q, I·P]` (the spatial kernels placed into `[Q, P]` matrices,
 *   padding folded in) times `[O, I·P, B·T']`. Output `[O, Q·B, T']`, time last again.
 * - `spatial-first` on the layout `[C, T, B·H·W]` (positions last): the windowed input `[nb, I, (Tb + L − 1)·B, P]`
 *   times `K [O, 1, I, P, Q]` (a GEMM with a long M = frames × batch and a short N = Q, which MLAS runs near
 *   peak), then `Mt [O, 1, Tb, I·(Tb + L − 1)]` times `[O, nb, I·(Tb + L − 1), B·Q]`. Output `[O, T', B·Q]`.
 *   Cheaper when the layer has few input channels (the stimulus layer). With a fixed length (engine graphs) the
 *   windows are taken from the spatial products instead (see {@link spatialThenWindows}).
 * - `row-bands` (engine graphs, one time block): the training graph's stimulus layer (row-bands.ts) on the time-last
 *   layout, the BatchNorm scale folded into each pair's `[T, T']` Toeplitz matrix. Far fewer zeros than the dense
 *   spatial placement of `spatial-first`, and it writes the time-last layout the next (temporal-first) layer reads.
 * Eval BatchNorm becomes a per-channel scale (multiplied into the second stage's matrix) and shift, then ELU. The
 * readout is one Gemm (or a batched MatMul over channels) with its effective weight `[c·Q, N]` and bias.
 */
export type LayerOrder = 'temporal-first' | 'spatial-first';

/** The engine graphs' orders: the exporter's, and `row-bands` for a fixed length of one time block. */
export type EngineLayerOrder = LayerOrder | 'row-bands';

export interface GemmForwardLayer {
  order: EngineLayerOrder;
  I: number;
  O: number;
  L: number;
  /** Temporal padding (front, back). */
  pt: readonly [number, number];
  /** Input / output positions (H·W). */
  P: number;
  Q: number;
  /** Output frames per temporal block. */
  Tb: number;
  /** temporal-first: `[O, I, Tb + L − 1, Tb]`; spatial-first: `[O, 1, Tb, I·(Tb + L − 1)]`; row-bands: `[I, O, T, T']`. */
  Mt: string;
  /** temporal-first: `[O, Q, I·P]`; spatial-first: `[O, 1, I, P, Q]`; row-bands: `[I, 1, O·wOut, kh·wIn]`. */
  K: string;
  /** row-bands: the layer's kernel and frame geometry. */
  bands?: RowBandShape;
  /** Folded BatchNorm (+ bias): `[O, 1]` each; without `scale`, it is already in the second stage's matrix. */
  scale?: string;
  shift: string;
  /**
   * The input length when it is fixed (engine graphs): a single unpadded block then needs no windowing, and a
   * spatial-first layer takes its windows after the spatial stage.
   */
  staticFrames?: number;
}

/** Whether the layer's input is exactly one window (fixed length, one block, no temporal padding). */
function singleWindow(p: GemmForwardLayer): boolean {
  return p.staticFrames === p.Tb + p.L - 1 && p.pt[0] === 0 && p.pt[1] === 0;
}

/** 1-D int64 tensor of the dims `[start, end)` of `x`'s shape. */
function shapeOf(g: OnnxGraph, x: string, start: number, end?: number): string {
  return g.op('Shape', [x], end === undefined ? { start } : { start, end });
}

function reshapeTo(g: OnnxGraph, x: string, parts: (number[] | string)[]): string {
  return g.op('Reshape', [
    x,
    g.op(
      'Concat',
      parts.map((p) => (typeof p === 'string' ? p : g.ints(p))),
      { axis: 0 },
    ),
  ]);
}

/**
 * Temporal windows of `h` along its last axis `axis` (length T, maybe dynamic): pads to `(nb + 1)·Tb` frames and
 * returns the block starts `head` (frames `[0, nb·Tb)`) and the frames after each block (`[Tb, (nb + 1)·Tb)`), plus
 * `T'` and `nb·Tb` as 1-D int64 tensors.
 */
function timeWindows(
  g: OnnxGraph,
  h: string,
  rank: number,
  axis: number,
  p: GemmForwardLayer,
): { head: string; next: string | undefined; tOut: string; span: string } {
  const { L, Tb } = p;
  const T = shapeOf(g, h, axis, axis + 1);
  const tOut = g.sub(g.add(T, g.ints([p.pt[0] + p.pt[1]])), g.ints([L - 1])); // T' = T + pads − L + 1
  const nb = g.op('Div', [g.add(tOut, g.ints([Tb - 1])), g.ints([Tb])]);
  const span = g.mul(nb, g.ints([Tb])); // nb·Tb
  // pt[0] zeros in front, the rest at the end (≥ pt[1]; the extra zeros feed only frames ≥ T', dropped later)
  const padEnd = g.sub(g.sub(g.add(span, g.ints([Tb])), T), g.ints([p.pt[0]]));
  const zeros = (k: number) => Array.from({ length: k }, () => 0);
  const begins = [...zeros(axis), p.pt[0], ...zeros(rank - axis - 1)];
  const after = zeros(rank - axis - 1);
  const pads = g.op('Concat', [g.ints([...begins, ...zeros(axis)]), padEnd, ...(after.length ? [g.ints(after)] : [])], { axis: 0 });
  const hp = g.op('Pad', [h, pads]);
  const ax = g.ints([axis]);
  const head = g.op('Slice', [hp, g.ints([0]), span, ax]);
  const next = L > 1 ? g.op('Slice', [hp, g.ints([Tb]), g.add(span, g.ints([Tb])), ax]) : undefined;
  return { head, next, tOut, span };
}

/**
 * Temporal windows of `h` along an outer `axis` (every window a block of contiguous rows): one Gather of the frames
 * `b·Tb + r` (`b < nb`, `r < Tb + L − 1`), the axis becoming `[nb, Tb + L − 1]`. Without temporal padding the indices
 * past the last frame are clamped to it instead of padding: they feed only output frames ≥ T', which the layer
 * drops. One copy of the frames instead of five (Pad, three Slices, Concat): the exporter's stimulus layer at 50
 * frames, batch 32, one thread, 0.30 against 0.75 ms. On the last axis a Gather copies element by element and
 * loses (3.9 against 1.3 ms), so time-last layers keep {@link timeWindows}.
 */
function gatherWindows(g: OnnxGraph, h: string, rank: number, axis: number, p: GemmForwardLayer): { windows: string; tOut: string } {
  const { L, Tb } = p;
  const Wn = Tb + L - 1;
  const pads = p.pt[0] + p.pt[1];
  if (p.staticFrames !== undefined) {
    // fixed length: constant indices
    const T = p.staticFrames;
    const nb = Math.ceil((T + pads - L + 1) / Tb);
    const last = pads === 0 ? T - 1 : nb * Tb + L - 2;
    const idx = Array.from({ length: nb * Wn }, (_, k) => Math.min(Math.floor(k / Wn) * Tb + (k % Wn), last));
    const src = pads === 0 ? h : padTime(g, h, rank, axis, p, g.ints([nb * Tb + L - 1 - T - p.pt[0]]));
    return { windows: g.op('Gather', [src, g.reshape(g.ints(idx), [nb, Wn])], { axis }), tOut: g.ints([T + pads - L + 1]) };
  }
  const T = shapeOf(g, h, axis, axis + 1);
  const tOut = g.sub(g.add(T, g.ints([pads])), g.ints([L - 1])); // T' = T + pads − L + 1
  const nb = g.op('Div', [g.add(tOut, g.ints([Tb - 1])), g.ints([Tb])]);
  const scalar = (v: string) => g.op('Squeeze', [v, g.ints([0])]);
  const starts = g.mul(g.op('Range', [scalar(g.ints([0])), scalar(nb), scalar(g.ints([1]))]), g.ints([Tb])); // [nb]
  const idx = g.add(g.op('Unsqueeze', [starts, g.ints([1])]), g.reshape(g.ints(Array.from({ length: Wn }, (_, r) => r)), [1, Wn])); // [nb, Wn]
  if (pads === 0) return { windows: g.op('Gather', [h, g.op('Min', [idx, g.sub(T, g.ints([1]))])], { axis }), tOut };
  // pt[0] zeros in front, nb·Tb + L − 1 − T − pt[0] (≥ pt[1]) at the end
  const padEnd = g.sub(g.sub(g.add(g.mul(nb, g.ints([Tb])), g.ints([L - 1])), T), g.ints([p.pt[0]]));
  return { windows: g.op('Gather', [padTime(g, h, rank, axis, p, padEnd), idx], { axis }), tOut };
}

/** `h` (rank `rank`) padded along `axis` with `pt[0]` zeros in front and `padEnd` (1-D int64) at the end. */
function padTime(g: OnnxGraph, h: string, rank: number, axis: number, p: GemmForwardLayer, padEnd: string): string {
  const zeros = (k: number) => Array.from({ length: k }, () => 0);
  const after = zeros(rank - axis - 1);
  const pads = g.op(
    'Concat',
    [g.ints([...zeros(axis), p.pt[0], ...after, ...zeros(axis)]), padEnd, ...(after.length ? [g.ints(after)] : [])],
    {
      axis: 0,
    },
  );
  return g.op('Pad', [h, pads]);
}

/** temporal-first: `h [1, I, P·B, T]` → `[O, Q, B, nb·Tb]` as `[O·Q, B, nb·Tb]`. */
function temporalFirst(g: OnnxGraph, h: string, p: GemmForwardLayer): { s: string; tOut: () => string } {
  const { I, O, L, Tb, Q } = p;
  if (singleWindow(p)) {
    const u = g.reshape(g.matmul(h, p.Mt), [O, I * p.P, -1]);
    return { s: g.reshape(g.matmul(p.K, u), [O * Q, -1, Tb]), tOut: () => g.ints([Tb]) };
  }
  const { head, next, tOut, span } = timeWindows(g, h, 4, 3, p);
  let window = g.reshape(head, [1, I, -1, Tb]); // [1, I, X·nb, Tb]
  if (next) {
    const n1 = g.reshape(next, [1, I, -1, Tb]);
    window = g.op('Concat', [window, L - 1 === Tb ? n1 : g.slice(n1, [0], [L - 1], [3])], { axis: 3 }); // [1, I, X·nb, Tb + L − 1]
  }
  const u = g.reshape(g.matmul(window, p.Mt), [O, I * p.P, -1]); // [O, I, P·B·nb·Tb] = [O, I·P, B·nb·Tb]
  const s = reshapeTo(g, g.matmul(p.K, u), [[O * Q, -1], span]); // [O·Q, B, nb·Tb]
  return { s, tOut: () => tOut };
}

/** row-bands: `h [1, I, P·B, T]` (a fixed length, one block: `Tb = T'`) → `[O·Q, B, T']`. */
function rowBands(g: OnnxGraph, h: string, p: GemmForwardLayer): { s: string; tOut: () => string } {
  if (!p.bands || p.staticFrames === undefined) throw new ConfigError('A row-bands layer needs its geometry and a fixed length.');
  const { conv } = rowBandConv(g, p.K, gatherRowBands(g, h, p.bands), p.Mt, { ...p.bands, tIn: p.staticFrames, tOut: p.Tb });
  return { s: g.reshape(conv, [p.O * p.Q, -1, p.Tb]), tOut: () => g.ints([p.Tb]) };
}

/** spatial-first: `h [I, T, B·P]` → `[O, nb·Tb, B·Q]`. */
function spatialFirst(g: OnnxGraph, h: string, p: GemmForwardLayer, B: string): { s: string; tOut: () => string } {
  const { I, O, L, Tb, P, Q } = p;
  const Wn = Tb + L - 1;
  if (singleWindow(p)) {
    const wins = reshapeTo(g, h, [[1, 1, I], g.mul(B, g.ints([Wn])), [P]]); // [1, 1, I, Wn·B, P]
    const y = reshapeTo(g, g.matmul(wins, p.K), [[O, 1, I * Wn], g.mul(B, g.ints([Q]))]);
    return { s: reshapeTo(g, g.matmul(p.Mt, y), [[O, -1], g.mul(B, g.ints([Q]))]), tOut: () => g.ints([Tb]) };
  }
  if (p.staticFrames !== undefined) return spatialThenWindows(g, h, p, B, p.staticFrames);
  const { windows: window, tOut } = gatherWindows(g, h, 3, 1, p); // [I, nb, Wn, B·P]
  const wins = reshapeTo(g, g.transpose(window, [1, 0, 2, 3]), [[1, -1, I], g.mul(B, g.ints([Wn])), [P]]); // [1, nb, I, Wn·B, P]
  const y = reshapeTo(g, g.matmul(wins, p.K), [[O, -1, I * Wn], g.mul(B, g.ints([Q]))]); // [O, nb, I·Wn, B·Q]
  const s = reshapeTo(g, g.matmul(p.Mt, y), [[O, -1], g.mul(B, g.ints([Q]))]); // [O, nb·Tb, B·Q]
  return { s, tOut: () => tOut };
}

/**
 * spatial-first over several time blocks, windows taken after the spatial stage: `[I, T, B·P]` → `[O, nb·Tb, B·Q]`.
 * Windowing the input first multiplies every frame that two windows share (`L − 1` per block) through the spatial
 * placement again; windowing the spatial products `[O, I, T, B·Q]` copies a few values per frame instead of ~P·Q
 * multiply-adds. Used where the length is fixed (engine graphs).
 */
function spatialThenWindows(g: OnnxGraph, h: string, p: GemmForwardLayer, B: string, T: number): { s: string; tOut: () => string } {
  const { I, O, L, Tb, P, Q } = p;
  const Wn = Tb + L - 1;
  const BQ = g.mul(B, g.ints([Q]));
  const x = reshapeTo(g, h, [[1, 1, I], g.mul(B, g.ints([T])), [P]]); // [1, 1, I, T·B, P]
  const y = reshapeTo(g, g.matmul(x, p.K), [[O, I, T], BQ]); // [O, I, T, B·Q]
  const { windows: window, tOut } = gatherWindows(g, y, 4, 2, p); // [O, I, nb, Wn, B·Q]
  // [O, I, nb, Wn·B·Q] → [O, nb, I, Wn·B·Q]: a swap of outer dims with contiguous rows
  const blocks = g.transpose(reshapeTo(g, window, [[O, I, -1], g.mul(BQ, g.ints([Wn]))]), [0, 2, 1, 3]);
  const s = g.matmul(p.Mt, reshapeTo(g, blocks, [[O, -1, I * Wn], BQ])); // [O, nb, Tb, B·Q]
  return { s: reshapeTo(g, s, [[O, -1], BQ]), tOut: () => tOut };
}

export type ForwardLayout = 'time-last' | 'positions-last';

/** The layout a layer of this order reads and writes. */
export function layoutOf(order: EngineLayerOrder): ForwardLayout {
  return order === 'spatial-first' ? 'positions-last' : 'time-last';
}

/**
 * Converts between the layouts: time-last `[1, C, P·B, T]` ↔ positions-last `[C, T, B·P]` (`P` positions per
 * frame).
 */
export function convertLayout(g: OnnxGraph, h: string, from: ForwardLayout, to: ForwardLayout, C: number, P: number): string {
  if (from === to) return h;
  // two cheap transposes instead of one 4-D permutation, which onnxruntime runs element by element
  if (from === 'positions-last') {
    const cpbt = positionsLastToTimeLast(g, h, C, P, shapeOf(g, h, 1, 2));
    return g.reshape(cpbt, [1, C, -1, 0]); // [C, P, B, T] → [1, C, P·B, T]
  }
  const tFirst = g.reshape(g.transpose(g.op('Squeeze', [h, g.ints([0])]), [0, 2, 1]), [C, 0, P, -1]); // [C, T, P·B] → [C, T, P, B]
  return g.reshape(g.transpose(tFirst, [0, 1, 3, 2]), [C, 0, -1]); // [C, T, B, P] → [C, T, B·P]
}

/**
 * One layer in its order's layout. Returns the post-ELU activation in the same layout, or, for the last layer,
 * `{ features }` without the first `cut` frames: time-last `[c·Q, B·T_out]`, positions-last `[c, T_out, B·Q]`.
 */
export function gemmLayer(g: OnnxGraph, h: string, p: GemmForwardLayer, B: string, last: { cut: number } | undefined): string {
  const { O, Q } = p;
  const start = last?.cut ?? 0;
  if (p.order !== 'spatial-first') {
    const { s, tOut } = p.order === 'row-bands' ? rowBands(g, h, p) : temporalFirst(g, h, p);
    const exact = p.order === 'row-bands' || singleWindow(p); // no frames past T'
    const frames = start === 0 && exact ? s : g.op('Slice', [s, g.ints([start]), tOut(), g.ints([2])]); // [O·Q, B, T' − start]
    const flat = g.reshape(frames, [O, -1]);
    const z = eluWithSlope(g, g.add(p.scale ? g.mul(flat, p.scale) : flat, p.shift)).a;
    if (last) return g.reshape(z, [O * Q, -1]);
    return reshapeTo(g, z, [[1, O, -1], start === 0 ? tOut() : g.sub(tOut(), g.ints([start]))]);
  }
  const { s, tOut } = spatialFirst(g, h, p, B);
  const frames = start === 0 && singleWindow(p) ? s : g.op('Slice', [s, g.ints([start]), tOut(), g.ints([1])]); // [O, T' − start, B·Q]
  const o3 = [O, 1, 1];
  return eluWithSlope(g, g.add(p.scale ? g.mul(frames, g.reshape(p.scale, o3)) : frames, g.reshape(p.shift, o3))).a;
}

/** Readout of the last layer's features (see {@link gemmLayer}) → `[B·T_out, N]` (time-last) or `[T_out·B, N]` (positions-last). */
export function gemmFeaturesReadout(
  g: OnnxGraph,
  feat: string,
  layout: ForwardLayout,
  c: number,
  Q: number,
  N: number,
  rw: string,
  rb: string,
  nonlinearity: string,
): string {
  if (layout === 'time-last') return gemmReadout(g, feat, rw, rb, nonlinearity);
  const per = g.matmul(g.reshape(feat, [c, -1, Q]), g.reshape(rw, [c, Q, N])); // [c, T_out·B, N]
  return applyNonlinearity(g, g.add(g.reduceSum(per, [0]), rb), nonlinearity);
}

function applyNonlinearity(g: OnnxGraph, pre: string, nonlinearity: string): string {
  switch (nonlinearity) {
    case 'softplus':
      return g.op('Softplus', [pre]);
    case 'exp':
      return g.op('Exp', [pre]);
    case 'relu':
      return g.op('Relu', [pre]);
    case 'elu':
      return g.op('Elu', [pre], { alpha: 1 });
    default:
      return pre;
  }
}

/** Readout: features `[c·Q, B·T_out]` → `[B·T_out, N]` with nonlinearity. */
export function gemmReadout(g: OnnxGraph, feat: string, rw: string, rb: string, nonlinearity: string): string {
  return applyNonlinearity(g, g.op('Gemm', [feat, rw, rb], { transA: 1 }), nonlinearity);
}

/**
 * `Tb` for a layer: a single block when the output is short, else blocks of `1.5·(L − 1)` frames (at least 8): a
 * block's Toeplitz multiplies `Tb + L − 1` window frames per output frame, so shorter blocks waste fewer products on
 * zeros, down to where the GEMMs get too narrow (150 frames, batch 1, engine graph, one thread: 16.3 ms on wasm and
 * 4.4 on cpu against 18.3 and 4.5 with `2·(L − 1)`; batch 16: 62.7 against 63.9 ms on cpu). At 50 frames both layers of
 * the Höfling 2024 core stay one block.
 */
export function temporalBlockSize(L: number, tOut: number | undefined): number {
  const blocked = Math.max(8, Math.ceil(1.5 * (L - 1)));
  return Math.max(L - 1, 1, tOut !== undefined && tOut <= 2 * blocked ? tOut : blocked);
}

/** Default order: spatial-first for layers with few input channels (the stimulus layer), else temporal-first. */
export function defaultLayerOrder(I: number): LayerOrder {
  return I < 8 ? 'spatial-first' : 'temporal-first';
}

/**
 * The engine graphs' default: {@link defaultLayerOrder}, with row bands instead of spatial-first where the layer's
 * output is one time block (a short fixed length, as the 50-frame training chunks). Bench model, batch 32 × 50 frames,
 * 2 threads, fresh processes in turns: the engine's `predict` 13.1–13.4 ms against 13.6–13.9 with the stimulus layer
 * spatial-first. Over several blocks the full `[T, T']` Toeplitz would grow with the square of the length, so those
 * stay spatial-first.
 */
export function defaultEngineLayerOrder(I: number, oneBlock: boolean): EngineLayerOrder {
  const order = defaultLayerOrder(I);
  return order === 'spatial-first' && oneBlock ? 'row-bands' : order;
}

export interface EngineForwardOptions {
  /** Output frames per temporal block, from the kernel size and the layer's output length (default {@link temporalBlockSize}). */
  blockSize?: (L: number, tOut: number) => number;
  /** Stage order per layer (default {@link defaultEngineLayerOrder}; `row-bands` only where the output is one block). */
  orders?: readonly EngineLayerOrder[];
}

interface ForwardLayerShape {
  order: EngineLayerOrder;
  Tb: number;
  Wn: number;
  P: number;
  Q: number;
}

function forwardShapes(plan: EnginePlan, options: EngineForwardOptions): ForwardLayerShape[] {
  return plan.layers.map((p, l) => {
    const Tb = (options.blockSize ?? temporalBlockSize)(p.L, p.tOut);
    const order = options.orders?.[l] ?? defaultEngineLayerOrder(p.I, Tb >= p.tOut);
    if (order === 'row-bands' && Tb < p.tOut)
      throw new ConfigError(`Layer ${l}: row bands need one time block (${p.tOut} frames, blocks of ${Tb}).`);
    const Tl = order === 'row-bands' ? p.tOut : Tb;
    return { order, Tb: Tl, Wn: Tl + p.L - 1, P: p.hIn * p.wIn, Q: p.hOut * p.wOut };
  });
}

/** Whether every layer's output is one time block (short stimuli, as the 50-frame training chunks). */
export function oneBlockForward(plan: EnginePlan, options: EngineForwardOptions = {}): boolean {
  return forwardShapes(plan, options).every((s, l) => s.Tb >= plan.layers[l]!.tOut);
}

/**
 * What {@link buildEngineForwardWeightsGraph} depends on: per layer the channels, kernel, padding, frame size, order and
 * block size, not the stimulus length. Lengths whose layers get the same blocks (the bundled model's validation at 150
 * frames and test at 750: one block of 30 and of 15 output frames) share one weights session and one set of matrices.
 */
export function forwardWeightsKey(plan: EnginePlan, options: EngineForwardOptions = {}): string {
  const shapes = forwardShapes(plan, options);
  return JSON.stringify(
    plan.layers.map((p, l) => {
      const { order, Tb } = shapes[l]!;
      return [p.I, p.O, p.L, p.kh, p.kw, p.pt, p.ph, p.pw, p.hIn, p.wIn, order, Tb];
    }),
  );
}

/** The shapes of a layer's two matrices (outputs of the weights graph, inputs of the forward graph). */
function matrixDims(order: EngineLayerOrder, p: EnginePlan['layers'][number], s: ForwardLayerShape): { Mt: number[]; K: number[] } {
  const { I, O } = p;
  const { Tb, Wn, P, Q } = s;
  if (order === 'row-bands') return { Mt: [I, O, p.tIn, p.tOut], K: [I, 1, O * p.wOut, p.kh * p.wIn] };
  if (order === 'temporal-first') return { Mt: [O, I, Wn, Tb], K: [O, Q, I * P] };
  return { Mt: [O, 1, Tb, I * Wn], K: [O, 1, I, P, Q] };
}

/** Input names of the engine's forward graph for layer l: block Toeplitz, spatial placement (BatchNorm scale folded in), shift. */
export const forwardWeightNames = {
  toeplitz: (l: number) => `Mt${l}`,
  placement: (l: number) => `K${l}`,
  shift: (l: number) => `bn_shift${l}`,
} as const;

/**
 * The graph that turns the engine's eval weights (inputs `wt [O, I, L]`, `ws [O, I, kh, kw]`, folded BatchNorm
 * `scale`, `shift` `[O]` per layer) into the forward graph's matrices (outputs `Mt<l>`, `K<l>`, `shift<l>`): the
 * block Toeplitz and the spatial placement of each layer, the BatchNorm scale multiplied into the second stage's
 * matrix. Run once per change of the weights; the forward graph then only touches activations.
 */
export function buildEngineForwardWeightsGraph(plan: EnginePlan, options: EngineForwardOptions = {}): Uint8Array {
  const g = new OnnxGraph();
  const shapes = forwardShapes(plan, options);
  const w = forwardWeightNames;
  plan.layers.forEach((p, l) => {
    const { I, O, L } = p;
    const { order, Tb, Wn, P, Q } = shapes[l]!;
    const kk = p.kh * p.kw;
    for (const [name, dims] of [
      [n.wt(l), [O, I, L]],
      [n.ws(l), [O, I, p.kh, p.kw]],
      [n.scale(l), [O]],
      [n.shift(l), [O]],
    ] as const)
      g.input(name, [...dims]);
    g.output(w.shift(l), g.reshape(n.shift(l), [O, 1]), [O, 1]);
    const dims = matrixDims(order, p, shapes[l]!);
    if (order === 'row-bands') {
      // the band kernel, and each pair's Toeplitz matrix with the output channel's BatchNorm scale
      g.output(w.placement(l), rowBandKernel(g, n.ws(l), p, rowBandPlacement(g, p)), dims.K);
      const Mt = pairToeplitz(g, n.wt(l), toeplitzPlacement(g, L, p.tIn, p.tOut, p.pt[0]), p);
      g.output(w.toeplitz(l), g.mul(Mt, g.reshape(n.scale(l), [1, O, 1, 1])), dims.Mt);
      return;
    }
    const tf1 = order === 'temporal-first';
    // 0/1 placements from one-hot indices (see oneHotPlacement): the block Toeplitz `[L, Tb·Wn]` (output frame c of a
    // block reads window row c + l through tap l; temporal-first orders each tap's matrix (row, c), spatial-first
    // (c, row)) and the spatial placement `[kh·kw, Q·P]` (temporal-first (q, p), spatial-first (p, q))
    const taps = Int32Array.from({ length: L * Tb }, (_, i) => Math.floor(i / Tb) + (i % Tb)); // window row c + l
    const D = oneHotPlacement(g, taps, [L, Tb], Wn, tf1 ? 1 : 2, [L, Wn * Tb]);
    const mt = g.matmul(g.reshape(n.wt(l), [O * I, L]), D);
    const { index } = spatialTapIndex(p.hIn, p.wIn, p.kh, p.kw, p.ph, p.pw);
    const k = g.matmul(g.reshape(n.ws(l), [O * I, kk]), oneHotPlacement(g, index, [kk, Q], P, tf1 ? 2 : 1, [kk, Q * P]));
    if (tf1) {
      g.output(w.toeplitz(l), g.reshape(mt, dims.Mt), dims.Mt);
      const K = g.mul(g.reshape(g.transpose(g.reshape(k, [O, I, Q, P]), [0, 2, 1, 3]), dims.K), g.reshape(n.scale(l), [O, 1, 1]));
      g.output(w.placement(l), K, dims.K);
    } else {
      const Mt = g.mul(g.reshape(g.transpose(g.reshape(mt, [O, I, Tb, Wn]), [0, 2, 1, 3]), dims.Mt), g.reshape(n.scale(l), [O, 1, 1, 1]));
      g.output(w.toeplitz(l), Mt, dims.Mt);
      g.output(w.placement(l), g.reshape(k, dims.K), dims.K);
    }
  });
  return g.encode('openretina_forward_weights');
}

/**
 * The engine's eval forward graph for one stimulus length: inputs `x [B, T, H, W, C]`, per layer the outputs of
 * {@link buildEngineForwardWeightsGraph} (same options), readout `rw [c·Q, N]`, `rb [N]`; output
 * `responses [B, T_out, N]`.
 */
export function buildEngineForwardGraph(plan: EnginePlan, options: EngineForwardOptions = {}): Uint8Array {
  const g = new OnnxGraph();
  const { C, H, W, T, c } = plan;
  const P0 = H * W;
  const shapes = forwardShapes(plan, options);
  const w = forwardWeightNames;
  g.input(n.x, ['batch', T, H, W, C]);
  const B = shapeOf(g, n.x, 0, 1);
  // [B, T, H, W, C] → [C, B·T·P] (2-D transpose) → [C, B, T, P]
  const cFirst = g.reshape(g.transpose(g.reshape(n.x, [-1, C]), [1, 0]), [C, -1, T, P0]);
  let layout = layoutOf(shapes[0]!.order);
  let h =
    layout === 'time-last'
      ? g.reshape(g.transpose(g.reshape(cFirst, [C, -1, P0]), [0, 2, 1]), [1, C, -1, T]) // [1, C, P·B, T]
      : g.reshape(g.transpose(cFirst, [0, 2, 1, 3]), [C, T, -1]); // [C, T, B·P]
  plan.layers.forEach((p, l) => {
    const { I, O, L } = p;
    const { order, Tb, P, Q } = shapes[l]!;
    const dims = matrixDims(order, p, shapes[l]!);
    h = convertLayout(g, h, layout, layoutOf(order), I, P);
    layout = layoutOf(order);
    const layer: GemmForwardLayer = {
      order,
      I,
      O,
      L,
      pt: p.pt,
      P,
      Q,
      Tb,
      Mt: g.input(w.toeplitz(l), dims.Mt),
      K: g.input(w.placement(l), dims.K),
      shift: g.input(w.shift(l), [O, 1]),
      staticFrames: p.tIn,
      ...(order === 'row-bands' ? { bands: p } : {}),
    };
    h = gemmLayer(g, h, layer, B, l === plan.layers.length - 1 ? { cut: plan.cut } : undefined);
  });
  const Q = shapes[shapes.length - 1]!.Q;
  // the neuron count is symbolic, so readout sessions of any size share the graph
  g.input(n.readoutWeight, [c * Q, NEURONS]);
  g.input(n.readoutBias, [NEURONS]);
  const out = gemmFeaturesReadout(g, h, layout, c, Q, -1, n.readoutWeight, n.readoutBias, plan.nonlinearity);
  const btn =
    layout === 'time-last' ? reshapeTo(g, out, [B, [plan.tOut, -1]]) : g.transpose(reshapeTo(g, out, [[plan.tOut], B, [-1]]), [1, 0, 2]);
  g.output(n.output, btn, ['batch', plan.tOut, NEURONS]);
  return g.encode('openretina_forward');
}
