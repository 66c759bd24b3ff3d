import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import { SpaceTimeSeparableConv3d, resolvePadding3d } from '@openretina/layers';
import type { CoreReadout } from '@openretina/models';
import onnxProto from 'onnx-proto';
import { GRAPH_OPSET, OnnxGraph } from './graph-builder.js';
import {
  convertLayout,
  defaultLayerOrder,
  gemmFeaturesReadout,
  gemmLayer,
  layoutOf,
  temporalBlockSize,
  type GemmForwardLayer,
  type LayerOrder,
} from './engine/forward-graph.js';

const { onnx } = onnxProto;

/** The stimulus length the `gemm` form's temporal blocks are sized for (OpenRetina's training chunk). */
export const GEMM_REFERENCE_FRAMES = 50;

/** Opset of the exported graphs. */
export const ONNX_OPSET = GRAPH_OPSET;
/** Graph input and output names (those of OpenRetina's PyTorch export). */
export const ONNX_INPUT = 'stimulus';
export const ONNX_OUTPUT = 'responses';
/** `metadata_props` keys written by {@link exportOnnx}. */
export const ONNX_META = {
  sessions: 'openretina.sessions',
  neuronsPerSession: 'openretina.neurons_per_session',
  framesCut: 'openretina.frames_cut',
  inputShape: 'openretina.input_shape',
} as const;

export interface ExportOnnxOptions {
  /** Export one session's readout; without it, every session, concatenated in sorted order (as `forward`). */
  session?: string;
  /**
   * How the space-time separable convolutions are written:
   * - `gemm` (default when the core has no colour squashing, input down-sampling or pooling): each layer as two
   *   batched MatMuls over time blocks (block Toeplitz × spatial placement matrices, see
   *   `engine/forward-graph.ts`), BatchNorm folded; cost linear in the stimulus length; the fastest form on
   *   onnxruntime's CPU provider (bench/RESULTS.md);
   * - `depthwise` (the default otherwise): a grouped spatial Conv, a grouped temporal Conv and a sum over input
   *   channels — exact, few multiply-adds;
   * - `composed`: one dense Conv with the composed `[O, I, L, kh, kw]` kernel, as OpenRetina's forward.
   */
  convForm?: 'gemm' | 'depthwise' | 'composed';
  /**
   * `gemm` form: output frames per temporal block of each layer, as a function of the temporal kernel size and of
   * the layer's output length for a {@link GEMM_REFERENCE_FRAMES}-frame stimulus (default: one block at that length).
   */
  blockFrames?: (kernelSize: number, referenceFrames: number) => number;
  /** `gemm` form: the order of the two stages per layer (default: spatial first for < 8 input channels). */
  layerOrders?: readonly LayerOrder[];
  /** Graph name (default `openretina`). */
  name?: string;
}

type AnyModule = Record<string, unknown>;

function dataOf(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function exportConv(
  g: OnnxGraph,
  x: string,
  conv: SpaceTimeSeparableConv3d,
  hwIn: readonly [number, number],
  session: string | undefined,
  form: 'depthwise' | 'composed',
): { y: string; hw: [number, number] } {
  const O = conv.outChannels;
  const I = conv.inChannels;
  const L = conv.temporalKernelSize;
  const [kh, kw] = conv.spatialKernel;
  const [pt, ph, pw] = resolvePadding3d(conv.padding, [L, kh, kw]);
  const pads = [pt[0], ph[0], pw[0], pt[1], ph[1], pw[1]];
  const hw: [number, number] = [hwIn[0] + ph[0] + ph[1] - kh + 1, hwIn[1] + pw[0] + pw[1] - kw + 1];
  const temporal = tf.tidy(() => dataOf(conv.temporalKernel(session))); // [O, I, L]
  const spatial = dataOf(conv.weightSpatial); // [O, I, 1, kh, kw]
  let y: string;
  if (form === 'composed') {
    const w = new Float32Array(O * I * L * kh * kw);
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let l = 0; l < L; l++) {
          const tv = temporal[(o * I + i) * L + l]!;
          const base = ((o * I + i) * L + l) * kh * kw;
          const sBase = (o * I + i) * kh * kw;
          for (let k = 0; k < kh * kw; k++) w[base + k] = tv * spatial[sBase + k]!;
        }
    y = g.op('Conv', [x, g.floats('conv_w', w, [O, I, L, kh, kw])], { kernel_shape: [L, kh, kw], pads, strides: [1, 1, 1] });
  } else {
    // spatial depthwise: group i produces channels i·O + o with weight_spatial[o, i]
    const ws = new Float32Array(I * O * kh * kw);
    const wt = new Float32Array(I * O * L);
    for (let i = 0; i < I; i++)
      for (let o = 0; o < O; o++) {
        ws.set(spatial.subarray((o * I + i) * kh * kw, (o * I + i + 1) * kh * kw), (i * O + o) * kh * kw);
        wt.set(temporal.subarray((o * I + i) * L, (o * I + i + 1) * L), (i * O + o) * L);
      }
    const s = g.op('Conv', [x, g.floats('conv_ws', ws, [I * O, 1, 1, kh, kw])], {
      kernel_shape: [1, kh, kw],
      pads: [0, ph[0], pw[0], 0, ph[1], pw[1]],
      group: I,
    });
    const st = g.op('Conv', [s, g.floats('conv_wt', wt, [I * O, 1, L, 1, 1])], {
      kernel_shape: [L, 1, 1],
      pads: [pt[0], 0, 0, pt[1], 0, 0],
      group: I * O,
    });
    if (I === 1) y = st;
    else {
      // (B, I·O, T', H', W') → (B, I, O, T', H', W') → sum over I
      y = g.reduceSum(g.reshape(st, [0, I, O, -1, hw[0], hw[1]]), [1]);
    }
  }
  if (conv.bias) y = g.add(y, g.floats('conv_b', dataOf(conv.bias), [1, O, 1, 1, 1]));
  return { y, hw };
}

function readoutWeights(
  readout: AnyModule,
  c: number,
  h: number,
  w: number,
): { weights: Float32Array; bias: Float32Array; n: number; nonlinearity: string } {
  const mask = readout.mask as (() => tf.Tensor3D) | undefined;
  const features = readout.features as tf.Variable | undefined;
  const scale = readout.scaleParam as tf.Variable | undefined;
  const bias = readout.bias as tf.Variable | undefined;
  const nl = readout.nonlinearity;
  if (typeof mask !== 'function' || !features || !scale || !bias || typeof nl !== 'string') {
    throw new UnsupportedError(`ONNX export supports Gaussian-mask readouts only (got ${readout.constructor.name}).`);
  }
  const n = readout.outDims as number;
  const m = tf.tidy(() => dataOf(mask.call(readout))); // [N, h, w]
  const f = tf.tidy(() => dataOf(readout.positive ? tf.relu(features) : features)); // [1, c, 1, N]
  const s = dataOf(scale);
  // weights[(ci·h + y)·w + x, n] = mask[n, y, x] · features[ci, n] · scale[n]  (input flattened as (c, h, w))
  const weights = new Float32Array(c * h * w * n);
  for (let ci = 0; ci < c; ci++)
    for (let p = 0; p < h * w; p++)
      for (let k = 0; k < n; k++) weights[(ci * h * w + p) * n + k] = m[k * h * w + p]! * f[ci * n + k]! * s[k]!;
  return { weights, bias: Float32Array.from(dataOf(bias)), n, nonlinearity: nl };
}

/** The readouts of `sessions`, concatenated: weight `[c·h·w, N]` (row `(ch·h + y)·w + x`), bias `[N]`. */
function sessionReadouts(
  model: CoreReadout,
  sessions: readonly string[],
  c: number,
  hw: readonly [number, number],
): { weights: Float32Array; bias: Float32Array; N: number; nl: string } {
  const perSession = (model.readout as unknown as { readout?: (s: string) => unknown }).readout;
  if (typeof perSession !== 'function') throw new UnsupportedError('ONNX export needs a multi-session readout with per-session readouts.');
  const parts = sessions.map((s) => readoutWeights(perSession.call(model.readout, s) as AnyModule, c, hw[0], hw[1]));
  const nl = parts[0]!.nonlinearity;
  if (parts.some((p) => p.nonlinearity !== nl))
    throw new UnsupportedError('ONNX export of sessions with different readout nonlinearities is not supported.');
  const N = parts.reduce((a, p) => a + p.n, 0);
  const weights = new Float32Array(c * hw[0] * hw[1] * N);
  const bias = new Float32Array(N);
  let offset = 0;
  for (const p of parts) {
    for (let r = 0; r < c * hw[0] * hw[1]; r++) weights.set(p.weights.subarray(r * p.n, (r + 1) * p.n), r * N + offset);
    bias.set(p.bias, offset);
    offset += p.n;
  }
  return { weights, bias, N, nl };
}

function sessionMetadata(model: CoreReadout, sessions: readonly string[], C: number, H: number, W: number): Record<string, unknown> {
  return {
    [ONNX_META.sessions]: sessions,
    [ONNX_META.neuronsPerSession]: Object.fromEntries(sessions.map((s) => [s, model.readout.numNeurons(s)])),
    [ONNX_META.framesCut]: model.framesCut,
    [ONNX_META.inputShape]: [C, H, W],
  };
}

/** The `gemm` form (see {@link ExportOnnxOptions.convForm}): weights folded into block Toeplitz and placement constants. */
function exportGemm(
  model: CoreReadout,
  layers: AnyModule[],
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
  let layout: 'time-last' | 'positions-last' | undefined;
  let act = '';
  layers.forEach((layer, l) => {
    const conv = layer.conv;
    if (!(conv instanceof SpaceTimeSeparableConv3d)) {
      throw new UnsupportedError(`ONNX export supports the custom_separable convolution only (got ${(conv as object).constructor.name}).`);
    }
    const { inChannels: I, outChannels: O, temporalKernelSize: L } = conv;
    const [kh, kw] = conv.spatialKernel;
    const [pt, ph, pw] = resolvePadding3d(conv.padding, [L, kh, kw]);
    const order = options.layerOrders?.[l] ?? defaultLayerOrder(I);
    const P = h * w;
    const hOut = h + ph[0] + ph[1] - kh + 1;
    const wOut = w + pw[0] + pw[1] - kw + 1;
    const Q = hOut * wOut;
    tRef = Math.max(tRef + pt[0] + pt[1] - L + 1, 1);
    const Tb = Math.max(L - 1, 1, (options.blockFrames ?? temporalBlockSize)(L, tRef));
    const Wn = Tb + L - 1;
    const wt = tf.tidy(() => dataOf(conv.temporalKernel(options.session))); // [O, I, L]
    const ws = dataOf(conv.weightSpatial); // [O, I, 1, kh, kw]
    const tf1 = order === 'temporal-first';
    // block Toeplitz: temporal-first [O, I, Wn, Tb] (row r, col c); spatial-first [O, Tb, I, Wn]
    const Mt = new Float32Array(O * I * Wn * Tb);
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let ll = 0; ll < L; ll++)
          for (let cc = 0; cc < Tb; cc++) {
            const r = cc + ll;
            Mt[tf1 ? ((o * I + i) * Wn + r) * Tb + cc : ((o * Tb + cc) * I + i) * Wn + r] = wt[(o * I + i) * L + ll]!;
          }
    // spatial placement: temporal-first [O, Q, I, P]; spatial-first [O, I, P, Q]
    const K = new Float32Array(O * I * P * Q);
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++) {
            const v = ws[((o * I + i) * kh + a) * kw + b]!;
            for (let y = 0; y < hOut; y++)
              for (let xx = 0; xx < wOut; xx++) {
                const yi = y + a - ph[0];
                const xi = xx + b - pw[0];
                if (yi < 0 || yi >= h || xi < 0 || xi >= w) continue;
                const q = y * wOut + xx;
                const p = yi * w + xi;
                const at = tf1 ? ((o * Q + q) * I + i) * P + p : ((o * I + i) * P + p) * Q + q;
                K[at] = K[at]! + v;
              }
          }
    // eval BatchNorm (+ conv bias before it, + the bias after it) folded into scale and shift
    const norm = layer.norm as AnyModule;
    const mean = norm.runningMean as tf.Variable | undefined;
    const variance = norm.runningVar as tf.Variable | undefined;
    if (!mean || !variance) throw new UnsupportedError('ONNX export needs BatchNorm running statistics (track_running_stats).');
    const gamma = norm.weight ? dataOf(norm.weight as tf.Variable) : new Float32Array(O).fill(1);
    const beta = norm.bias ? dataOf(norm.bias as tf.Variable) : new Float32Array(O);
    const rm = dataOf(mean);
    const rv = dataOf(variance);
    const convBias = conv.bias ? dataOf(conv.bias) : new Float32Array(O);
    const after = dataOf((layer.bias as AnyModule).bias as tf.Variable);
    const scale = new Float32Array(O);
    const shift = new Float32Array(O);
    for (let o = 0; o < O; o++) {
      scale[o] = gamma[o]! / Math.sqrt(rv[o]! + (norm.eps as number));
      shift[o] = beta[o]! + (convBias[o]! - rm[o]!) * scale[o]! + after[o]!;
    }
    // the scale goes into the second stage's matrix (its rows belong to one output channel each)
    const second = tf1 ? K : Mt;
    const per = second.length / O;
    for (let i = 0; i < second.length; i++) second[i] = second[i]! * scale[Math.floor(i / per)]!;
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
    if (layout === undefined) {
      act =
        want === 'time-last'
          ? g.reshape(g.transpose(x4, [1, 3, 0, 2]), [1, C, -1, 0])
          : g.reshape(g.transpose(x4, [1, 2, 0, 3]), [C, 0, -1]);
    } else act = convertLayout(g, act, layout, want, I, P);
    layout = want;
    const cut = (coreOptions.cutFirstNFrames as number | undefined) ?? 30;
    act = gemmLayer(g, act, spec, B, l === layers.length - 1 ? { cut } : undefined);
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
 * Writes the eval-mode forward of a `CoreReadout` (SimpleCoreWrapper with space-time separable convolutions +
 * Gaussian-mask readouts) as an ONNX graph (opset 17): input `stimulus` `(batch, C, time, H, W)` float32 — the
 * layout of OpenRetina's PyTorch export, so graphs from either side are interchangeable — output `responses`
 * `(batch, time − framesCut, N)`. Batch and time are dynamic. Weight-only computations (the temporal basis, the
 * masks, the positive clamp and scale of the readout features) are folded into constants.
 */
export function exportOnnx(model: CoreReadout, options: ExportOnnxOptions = {}): Uint8Array {
  const core = model.core as unknown as AnyModule;
  const layers = (core.features as { layers?: AnyModule[] } | undefined)?.layers;
  const coreOptions = core.options as Record<string, unknown> | undefined;
  if (!layers || !coreOptions)
    throw new UnsupportedError(`ONNX export supports SimpleCoreWrapper cores only (got ${model.core.constructor.name}).`);
  const gemmBlocker = core.colorSquashing
    ? 'colour squashing'
    : coreOptions.downsampleInputKernelSize
      ? 'input down-sampling'
      : layers.some((l) => l.pool)
        ? 'pooling'
        : undefined;
  if (options.convForm === 'gemm' && gemmBlocker)
    throw new UnsupportedError(`The gemm ONNX form does not cover ${gemmBlocker}; use convForm 'depthwise'.`);
  const form = options.convForm ?? (gemmBlocker ? 'depthwise' : 'gemm');
  const sessions = options.session === undefined ? [...model.sessions] : [options.session];
  for (const s of sessions) model.readout.numNeurons(s); // unknown session → UnknownSessionError
  const { channels: C, height: H, width: W } = model.stimulus;
  if (form === 'gemm') return exportGemm(model, layers, coreOptions, sessions, options);
  const g = new OnnxGraph();
  let x = g.input(ONNX_INPUT, ['batch', C, 'time', H, W]);
  let hw: [number, number] = [H, W];
  const colour = core.colorSquashing as AnyModule | undefined;
  if (colour) {
    const cw = dataOf(colour.channelWeights as tf.Variable);
    x = g.op('Conv', [x, g.floats('colour_w', cw, [1, cw.length, 1, 1, 1])], { kernel_shape: [1, 1, 1] });
  }
  const down = coreOptions.downsampleInputKernelSize as readonly number[] | null | undefined;
  if (down) {
    x = g.op('AveragePool', [x], { kernel_shape: [...down], strides: [...down] });
    hw = [Math.floor(hw[0] / down[1]!), Math.floor(hw[1] / down[2]!)];
  }
  for (const layer of layers) {
    const conv = layer.conv;
    if (!(conv instanceof SpaceTimeSeparableConv3d)) {
      throw new UnsupportedError(`ONNX export supports the custom_separable convolution only (got ${(conv as object).constructor.name}).`);
    }
    ({ y: x, hw } = exportConv(g, x, conv, hw, options.session, form));
    const norm = layer.norm as AnyModule;
    const O = conv.outChannels;
    const bnWeight = norm.weight ? dataOf(norm.weight as tf.Variable) : new Float32Array(O).fill(1);
    const bnBias = norm.bias ? dataOf(norm.bias as tf.Variable) : new Float32Array(O);
    const mean = norm.runningMean as tf.Variable | undefined;
    const variance = norm.runningVar as tf.Variable | undefined;
    if (!mean || !variance) throw new UnsupportedError('ONNX export needs BatchNorm running statistics (track_running_stats).');
    x = g.op(
      'BatchNormalization',
      [
        x,
        g.floats('bn_w', bnWeight, [O]),
        g.floats('bn_b', bnBias, [O]),
        g.floats('bn_mean', dataOf(mean), [O]),
        g.floats('bn_var', dataOf(variance), [O]),
      ],
      { epsilon: norm.eps as number },
    );
    const bias = (layer.bias as AnyModule).bias as tf.Variable;
    x = g.add(x, g.floats('bias', dataOf(bias), [1, O, 1, 1, 1]));
    x = g.op('Elu', [x], { alpha: 1 });
    if (layer.pool) {
      x = g.op('MaxPool', [x], { kernel_shape: [1, 2, 2], strides: [1, 2, 2] });
      hw = [Math.floor(hw[0] / 2), Math.floor(hw[1] / 2)];
    }
  }
  const cut = (coreOptions.cutFirstNFrames as number | undefined) ?? 30;
  if (cut > 0) x = g.slice(x, [cut], [2 ** 53 - 1], [2]);
  // readout: (B, c, T, h, w) → (B, T, c·h·w) @ W + b → nonlinearity
  const c = model.core.outChannels;
  const { weights, bias, N, nl } = sessionReadouts(model, sessions, c, hw);
  x = g.transpose(x, [0, 2, 1, 3, 4]);
  x = g.reshape(x, [0, 0, c * hw[0] * hw[1]]);
  x = g.matmul(x, g.floats('readout_w', weights, [c * hw[0] * hw[1], N]));
  x = g.add(x, g.floats('readout_b', bias, [N]));
  const opFor: Record<string, string | undefined> = { softplus: 'Softplus', exp: 'Exp', relu: 'Relu', elu: 'Elu' };
  if (nl !== 'identity') {
    const op = opFor[nl];
    if (!op) throw new UnsupportedError(`ONNX export: readout nonlinearity "${nl}" is not supported.`);
    x = g.op(op, [x], op === 'Elu' ? { alpha: 1 } : {});
  }
  g.output(ONNX_OUTPUT, x, ['batch', 'time_out', N]);
  return g.encode(options.name ?? 'openretina', sessionMetadata(model, sessions, C, H, W));
}

/** Reads the `metadata_props` and input/output shapes of an ONNX model (ours or PyTorch's). */
export function readOnnxInfo(bytes: Uint8Array): {
  metadata: Record<string, string>;
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
  opset: number | undefined;
} {
  const m = onnx.ModelProto.decode(bytes);
  const dims = (v: InstanceType<typeof onnx.ValueInfoProto>) =>
    (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
  return {
    metadata: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    inputs: (m.graph?.input ?? [])
      .filter((i) => !(m.graph?.initializer ?? []).some((t) => t.name === i.name))
      .map((v) => ({ name: v.name ?? '', dims: dims(v as InstanceType<typeof onnx.ValueInfoProto>) })),
    outputs: (m.graph?.output ?? []).map((v) => ({ name: v.name ?? '', dims: dims(v as InstanceType<typeof onnx.ValueInfoProto>) })),
    opset: (() => {
      const v = (m.opsetImport ?? []).find((o) => !o.domain)?.version;
      return v === undefined || v === null ? undefined : Number(v);
    })(),
  };
}
