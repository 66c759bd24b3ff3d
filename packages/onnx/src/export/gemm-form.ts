import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import { CoreLayer } from '@openretina/core';
import { SpaceTimeSeparableConv3d, resolvePadding3d } from '@openretina/layers';
import type { CoreReadout } from '@openretina/models';
import { OnnxGraph } from '../graph-builder.js';
import {
  convertLayout,
  defaultLayerOrder,
  gemmFeaturesReadout,
  gemmLayer,
  layoutOf,
  temporalBlockSize,
  type ForwardLayout,
  type GemmForwardLayer,
} from '../engine/forward-graph.js';
import { spatialTapIndex } from '../engine/placements.js';
import { rowBandTapIndex } from '../engine/row-bands.js';
import { dataOf, sessionReadouts } from './model-weights.js';
import { sessionMetadata } from './metadata.js';
import { type ExportOnnxOptions, GEMM_REFERENCE_FRAMES, ONNX_INPUT, ONNX_OUTPUT } from './options.js';

/*
 * The \`gemm\` form of the whole model: each layer as batched MatMuls over time blocks (the fastest form on
 * onnxruntime's CPU provider).
 */

/** The `gemm` form (see {@link ExportOnnxOptions.convForm}): weights folded into block Toeplitz and placement constants. */
export function exportGemm(
  model: CoreReadout,
  layers: readonly unknown[],
  coreOptions: Record<string, unknown>,
  sessions: readonly string[],
  options: ExportOnnxOptions,
): Uint8Array {
  const { channels: C, height: H, width: W } = model.stimulus;
  const g = new OnnxGraph();
  g.input(ONNX_INPUT, ['batch', C, 'time', H, W]);
  const B = g.op('Shape', [ONNX_INPUT], { start: 0, end: 1 });
  const x4 = g.reshape(ONNX_INPUT, [0, C, 0, H * W]); // [B, C, T, P]
  let [h, w] = [H, W];
  let tRef = GEMM_REFERENCE_FRAMES;
  let layout: ForwardLayout | undefined;
  let act = '';
  layers.forEach((layer, l) => {
    if (!(layer instanceof CoreLayer)) {
      throw new UnsupportedError(
        `The gemm ONNX form needs the core's own conv blocks (layer ${l} is ${(layer as object).constructor.name}).`,
      );
    }
    const conv = layer.conv;
    if (!(conv instanceof SpaceTimeSeparableConv3d)) {
      throw new UnsupportedError(`ONNX export supports the custom_separable convolution only (got ${(conv as object).constructor.name}).`);
    }
    const { inChannels: I, outChannels: O, temporalKernelSize: L } = conv;
    const [kh, kw] = conv.spatialKernel;
    const [pt, ph, pw] = resolvePadding3d(conv.padding, [L, kh, kw]);
    const order = options.layerOrders?.[l] ?? defaultLayerOrder(I);
    const P = h * w;
    const { index: spatial, hOut, wOut } = spatialTapIndex(h, w, kh, kw, ph, pw);
    const Q = hOut * wOut;
    tRef = Math.max(tRef + pt[0] + pt[1] - L + 1, 1);
    const Tb = Math.max(L - 1, 1, (options.blockFrames ?? temporalBlockSize)(L, tRef));
    const Wn = Tb + L - 1;
    const wt = tf.tidy(() => dataOf(conv.temporalKernel(options.session))); // [O, I, L]
    const ws = dataOf(conv.weightSpatial); // [O, I, 1, kh, kw]
    // eval BatchNorm (+ conv bias before it, + the bias after it) folded into scale and shift
    const affine = layer.evalAffine();
    if (!affine) throw new UnsupportedError('ONNX export needs BatchNorm running statistics (track_running_stats).');
    const { scale, shift } = affine;
    const tf1 = order === 'temporal-first';
    // the scale goes into the second stage's matrix (its rows belong to one output channel each)
    // block Toeplitz: temporal-first [O, I, Wn, Tb] (row r, col c); spatial-first [O, Tb, I, Wn]
    const Mt = placedToeplitz(wt, O, I, L, Tb, tf1 ? undefined : scale, (o, i, r, c) =>
      tf1 ? ((o * I + i) * Wn + r) * Tb + c : ((o * Tb + c) * I + i) * Wn + r,
    );
    // spatial placement: temporal-first [O, Q, I, P]; spatial-first [O, I, P, Q]
    const K = placedTaps(ws, O, I, kh * kw, spatial, P * Q, tf1 ? scale : undefined, (o, i, q, p) =>
      tf1 ? ((o * Q + q) * I + i) * P + p : ((o * I + i) * P + p) * Q + q,
    );
    const spec: GemmForwardLayer = {
      order,
      I,
      O,
      L,
      pt: [pt[0], pt[1]],
      P,
      Q,
      Tb,
      Mt: g.floats('toeplitz', Mt, tf1 ? [O, I, Wn, Tb] : [O, 1, Tb, I * Wn]),
      K: g.floats('placement', K, tf1 ? [O, Q, I * P] : [O, 1, I, P, Q]),
      shift: g.floats('bn_shift', shift, [O, 1]),
    };
    const want = layoutOf(order);
    const from = layout;
    const input = (b: OnnxGraph, to: ForwardLayout): string => {
      if (from !== undefined) return convertLayout(b, act, from, to, I, P);
      if (to === 'positions-last') return b.reshape(b.transpose(x4, [1, 2, 0, 3]), [C, 0, -1]);
      // [B, C, T·P] → [C, B, T·P] (a swap of outer dims with contiguous rows) → [C, P, B·T] (a batched 2-D
      // transpose): a general 4-D permutation runs element by element
      const cFirst = b.reshape(b.transpose(b.reshape(x4, [0, C, -1]), [1, 0, 2]), [C, -1, P]);
      const shape = b.op('Concat', [b.ints([1, C, -1]), b.op('Shape', [x4], { start: 2, end: 3 })], { axis: 0 });
      return b.op('Reshape', [b.transpose(cFirst, [0, 2, 1]), shape]); // [1, C, P·B, T]
    };
    const last = l === layers.length - 1;
    const next = layers[l + 1];
    const nextOrder = next instanceof CoreLayer ? (options.layerOrders?.[l + 1] ?? defaultLayerOrder(next.conv.inChannels)) : undefined;
    if (order === 'spatial-first' && pt[0] === 0 && pt[1] === 0 && nextOrder === 'temporal-first') {
      // one window: row bands (as the engine's prediction graph), else the windows; both end time-last, as the next
      // layer reads
      const bands = { I, O, kh, kw, ph: [ph[0], ph[1]] as const, pw: [pw[0], pw[1]] as const, hIn: h, wIn: w, hOut, wOut };
      const rowBands: GemmForwardLayer = {
        ...spec,
        order: 'row-bands',
        Tb,
        // each pair's Toeplitz of one window [I, O, Wn, Tb], the scale folded in; the band kernel [I, 1, O·wOut, kh·wIn]
        Mt: g.floats(
          'pair_toeplitz',
          placedToeplitz(wt, O, I, L, Tb, scale, (o, i, r, c) => ((i * O + o) * Wn + r) * Tb + c),
          [I, O, Wn, Tb],
        ),
        K: g.floats(
          'band_kernel',
          placedTaps(
            ws,
            O,
            I,
            kh * kw,
            rowBandTapIndex(bands),
            wOut * kh * w,
            undefined,
            (o, i, x, col) => ((i * O + o) * wOut + x) * kh * w + col,
          ),
          [I, 1, O * wOut, kh * w],
        ),
        staticFrames: Wn,
        bands,
      };
      // the frame axis: the input's [B, C, T, P], time-last [1, I, P·B, T] or positions-last [I, T, B·P]
      const axis = from === undefined ? 2 : from === 'time-last' ? 3 : 1;
      const frames = g.op('Shape', [from === undefined ? x4 : act], { start: axis, end: axis + 1 });
      act = g.ifElse(
        g.reshape(g.op('Equal', [frames, g.ints([Wn])]), []),
        (b) => gemmLayer(b, input(b, 'time-last'), rowBands, B, undefined),
        (b) => convertLayout(b, gemmLayer(b, input(b, want), spec, B, undefined), want, 'time-last', O, Q),
      );
      layout = 'time-last';
    } else {
      act = input(g, want);
      layout = want;
      const cut = (coreOptions.cutFirstNFrames as number | undefined) ?? 30;
      act = anyLengthLayer(g, act, spec, B, last ? { cut } : undefined, want);
    }
    [h, w] = [hOut, wOut];
  });
  const c = model.core.outChannels;
  const Q = h * w;
  const { weights, bias, N, nl } = sessionReadouts(model, sessions, c, [h, w]);
  if (nl !== 'identity' && !['softplus', 'exp', 'relu', 'elu'].includes(nl))
    throw new UnsupportedError(`ONNX export: readout nonlinearity "${nl}" is not supported.`);
  const out = gemmFeaturesReadout(
    g,
    act,
    layout!,
    c,
    Q,
    N,
    g.floats('readout_w', weights, [c * Q, N]),
    g.floats('readout_b', bias, [N]),
    nl,
  );
  const shape = (parts: (number[] | string)[]) =>
    g.op(
      'Concat',
      parts.map((p) => (typeof p === 'string' ? p : g.ints(p))),
      { axis: 0 },
    );
  const responses =
    layout === 'time-last'
      ? g.op('Reshape', [out, shape([B, [-1, N]])])
      : g.transpose(g.op('Reshape', [out, shape([[-1], B, [N]])]), [1, 0, 2]);
  g.output(ONNX_OUTPUT, responses, ['batch', 'time_out', N]);
  return g.encode(options.name ?? 'openretina', sessionMetadata(model, sessions, C, H, W));
}

/**
 * A layer of the dynamic-length graph. Without temporal padding, an input of exactly one window (`Tb + L − 1`
 * frames: the reference stimulus length sizes the blocks so) takes a branch without the windows' Pad, Slice and
 * Concat copies (batch 32 × 50 frames, raw runs: ~12.9 against 14.4–15.5 ms); other lengths take the windowed
 * branch.
 */
function anyLengthLayer(
  g: OnnxGraph,
  act: string,
  spec: GemmForwardLayer,
  B: string,
  last: { cut: number } | undefined,
  layout: ForwardLayout,
): string {
  if (spec.pt[0] !== 0 || spec.pt[1] !== 0) return gemmLayer(g, act, spec, B, last);
  const Wn = spec.Tb + spec.L - 1;
  const axis = layout === 'time-last' ? 3 : 1; // [1, I, H·W·B, T] or [I, T, B·H·W]
  const frames = g.op('Shape', [act], { start: axis, end: axis + 1 });
  const oneWindow = g.reshape(g.op('Equal', [frames, g.ints([Wn])]), []);
  return g.ifElse(
    oneWindow,
    (branch) => gemmLayer(branch, act, { ...spec, staticFrames: Wn }, B, last),
    (branch) => gemmLayer(branch, act, spec, B, last),
  );
}

/**
 * Each channel pair's temporal kernel (`wt [O, I, L]`) in its block Toeplitz: output frame c of a block reads window
 * row r = c + l through tap l. Written at `at(o, i, r, c)` of an array of `O·I·(Tb + L − 1)·Tb` values, times
 * `scale[o]` where given (the BatchNorm scale, when this stage is the one whose rows belong to output channels).
 */
function placedToeplitz(
  wt: Float32Array,
  O: number,
  I: number,
  L: number,
  Tb: number,
  scale: Float32Array | undefined,
  at: (o: number, i: number, r: number, c: number) => number,
): Float32Array {
  const out = new Float32Array(O * I * (Tb + L - 1) * Tb);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let l = 0; l < L; l++) {
        const v = wt[(o * I + i) * L + l]! * (scale ? scale[o]! : 1);
        for (let c = 0; c < Tb; c++) out[at(o, i, c + l, c)] = v;
      }
  return out;
}

/**
 * Each channel pair's spatial taps (`ws [O, I, kh·kw]`) placed through a tap index `[kh·kw, n]` (the target each tap
 * reaches from output j, −1 for padding: {@link spatialTapIndex}, {@link rowBandTapIndex}), at `at(o, i, j, target)`
 * of an array of `size` values per channel pair, times `scale[o]` where given (as {@link placedToeplitz}).
 */
function placedTaps(
  ws: Float32Array,
  O: number,
  I: number,
  kk: number,
  index: Int32Array,
  size: number,
  scale: Float32Array | undefined,
  at: (o: number, i: number, j: number, target: number) => number,
): Float32Array {
  const n = index.length / kk;
  const out = new Float32Array(O * I * size);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let t = 0; t < kk; t++) {
        const v = ws[(o * I + i) * kk + t]! * (scale ? scale[o]! : 1);
        for (let j = 0; j < n; j++) {
          const target = index[t * n + j]!;
          if (target < 0) continue;
          const k = at(o, i, j, target);
          out[k] = out[k]! + v;
        }
      }
  return out;
}
