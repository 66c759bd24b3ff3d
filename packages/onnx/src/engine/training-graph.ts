import { SpaceTimeSeparableConv3d, resolvePadding3d } from '@openretina/layers';
import { UnsupportedError } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { OnnxGraph } from '../graph-builder.js';
import { positionsLastToTimeLast } from './layout-change.js';
import { oneHotPlacement, spatialTapIndex, temporalTapIndex, toeplitzPlacement } from './placements.js';
import { gatherRowBands, pairToeplitz, rowBandConv, rowBandKernel, rowBandPlacement } from './row-bands.js';

/** One space-time separable conv block of the core, with the shapes of a fixed-length input. */
export interface EngineConvPlan {
  I: number;
  O: number;
  L: number;
  kh: number;
  kw: number;
  pt: [number, number];
  ph: [number, number];
  pw: [number, number];
  /** Input (time, height, width) and output (time, height, width). */
  tIn: number;
  hIn: number;
  wIn: number;
  tOut: number;
  hOut: number;
  wOut: number;
  eps: number;
}

/** What the engine graphs need to know about a model for one stimulus length. */
export interface EnginePlan {
  C: number;
  H: number;
  W: number;
  T: number;
  layers: EngineConvPlan[];
  /** Frames cut after the core (cut_first_n_frames). */
  cut: number;
  /** Output frames. */
  tOut: number;
  /** Core output channels. */
  c: number;
  N: number;
  nonlinearity: 'softplus' | 'identity' | 'exp';
}

type AnyModule = Record<string, unknown>;

/**
 * Checks that a model is one the ONNX engine graphs cover (SimpleCoreWrapper of custom_separable convolutions, no
 * colour squashing, input down-sampling, pooling or dropout; Gaussian-mask readout with softplus, exp or identity)
 * and returns its plan for `T` frames; throws `UnsupportedError` naming what is not covered.
 */
export function enginePlan(model: CoreReadout, session: string, T: number): EnginePlan {
  const core = model.core as unknown as AnyModule;
  const layers = (core.features as { layers?: AnyModule[] } | undefined)?.layers;
  const options = core.options as Record<string, unknown> | undefined;
  if (!layers || !options)
    throw new UnsupportedError(`The ONNX engine supports SimpleCoreWrapper cores only (got ${model.core.constructor.name}).`);
  if (core.colorSquashing) throw new UnsupportedError('The ONNX engine does not cover colour squashing.');
  if (options.downsampleInputKernelSize) throw new UnsupportedError('The ONNX engine does not cover input down-sampling.');
  const { channels: C, height: H, width: W } = model.stimulus;
  let [t, h, w] = [T, H, W];
  const plans: EngineConvPlan[] = [];
  for (const layer of layers) {
    const conv = layer.conv;
    if (!(conv instanceof SpaceTimeSeparableConv3d)) {
      throw new UnsupportedError(
        `The ONNX engine supports the custom_separable convolution only (got ${(conv as object).constructor.name}).`,
      );
    }
    if (conv.bias) throw new UnsupportedError('The ONNX engine does not cover a conv bias (SimpleCoreWrapper builds none).');
    if (layer.pool) throw new UnsupportedError('The ONNX engine does not cover max-pooling.');
    if ((layer.dropoutRate as number) > 0) throw new UnsupportedError('The ONNX engine does not cover dropout.');
    const norm = layer.norm as AnyModule;
    if (!norm.weight || !norm.bias) throw new UnsupportedError('The ONNX engine needs an affine BatchNorm.');
    const [kh, kw] = conv.spatialKernel;
    const L = conv.temporalKernelSize;
    const [pt, ph, pw] = resolvePadding3d(conv.padding, [L, kh, kw]);
    const p: EngineConvPlan = {
      I: conv.inChannels,
      O: conv.outChannels,
      L,
      kh,
      kw,
      pt: [pt[0], pt[1]],
      ph: [ph[0], ph[1]],
      pw: [pw[0], pw[1]],
      tIn: t,
      hIn: h,
      wIn: w,
      tOut: t + pt[0] + pt[1] - L + 1,
      hOut: h + ph[0] + ph[1] - kh + 1,
      wOut: w + pw[0] + pw[1] - kw + 1,
      eps: norm.eps as number,
    };
    if (p.tOut < 1 || p.hOut < 1 || p.wOut < 1) throw new UnsupportedError(`A ${T}-frame stimulus is too short for the core.`);
    plans.push(p);
    [t, h, w] = [p.tOut, p.hOut, p.wOut];
  }
  const cut = (options.cutFirstNFrames as number | undefined) ?? 30;
  if (t - cut < 1) throw new UnsupportedError(`A ${T}-frame stimulus leaves no output frame.`);
  if (!model.readout.readout) throw new UnsupportedError('The ONNX engine needs a readout per session (MultiReadout.readout).');
  const readout = model.readout.readout(session) as unknown as AnyModule;
  if (typeof readout.mask !== 'function' || !readout.features || !readout.scaleParam) {
    throw new UnsupportedError(`The ONNX engine supports Gaussian-mask readouts only (got ${readout.constructor.name}).`);
  }
  const nl = readout.nonlinearity;
  if (nl !== 'softplus' && nl !== 'identity' && nl !== 'exp')
    throw new UnsupportedError(`The ONNX engine does not cover the readout nonlinearity ${String(nl)}.`);
  model.checkReadoutInput(session);
  return {
    C,
    H,
    W,
    T,
    layers: plans,
    cut,
    tOut: t - cut,
    c: model.core.outChannels,
    N: model.readout.numNeurons(session),
    nonlinearity: nl,
  };
}

/**
 * The symbolic neuron dimension of the engine graphs: a graph is the same for every readout session of a model
 * whatever its neuron count, so one ONNX Runtime session serves them all (see {@link graphKeyPlan}).
 */
export const NEURONS = 'neurons';

/** The part of a plan a graph depends on: everything but the neuron count (symbolic in the graphs). */
export function graphKeyPlan(plan: EnginePlan): Omit<EnginePlan, 'N'> {
  const { N: _n, ...rest } = plan;
  return rest;
}

/** Which graph: a training step (loss + all parameter gradients), an eval vector-Jacobian product to the input, or a forward. */
export type EngineGraphKind = 'train' | 'vjp' | 'forward';

/** Names of the graph inputs and outputs for layer `l`. */
export const engineNames = {
  x: 'x',
  targets: 'targets',
  cotangent: 'cotangent',
  wt: (l: number) => `wt${l}`,
  ws: (l: number) => `ws${l}`,
  gamma: (l: number) => `gamma${l}`,
  beta: (l: number) => `beta${l}`,
  bias: (l: number) => `bias${l}`,
  /** eval graphs: folded BatchNorm + bias, `y = x·scale + shift`. */
  scale: (l: number) => `scale${l}`,
  shift: (l: number) => `shift${l}`,
  readoutWeight: 'rw',
  readoutBias: 'rb',
  loss: 'loss',
  output: 'responses',
  inputGrad: 'd_x',
  grad: (name: string) => `d_${name}`,
  batchMean: (l: number) => `mean${l}`,
  batchVar: (l: number) => `var${l}`,
} as const;

/**
 * How a training-graph layer runs its two stages (see {@link buildEngineGraph}):
 * - `per-pair`: the spatial product of each input channel with all output channels' kernels on row bands (output
 *   row r reads kh input rows: `Kb [I, 1, O·wOut, kh·wIn] × [I, hOut, kh·wIn, B·T]`, one band kernel for all rows,
 *   far fewer zeros than a dense `[Q, P]` placement), then each pair's Toeplitz product and a sum over input
 *   channels. Best with few input channels (the stimulus layer: the sum is over 2).
 * - `temporal-first`: each pair's Toeplitz product (`[1, I, P·B, T] × Mt [O, I, T, T']`), then one MatMul per
 *   output channel contracting input channels and positions together (`K [O, Q, I·P] × [O, I·P, B·T']`), as the
 *   prediction graph's hidden layer.
 */
export type TrainLayerOrder = 'per-pair' | 'temporal-first';

/** Default: per-pair for layers with few input channels (the stimulus layer), else temporal-first. */
function defaultTrainLayerOrder(I: number): TrainLayerOrder {
  return I < 8 ? 'per-pair' : 'temporal-first';
}

/** Options of {@link buildEngineGraph}: the stage order of each layer (default {@link defaultTrainLayerOrder}). */
export interface EngineGraphOptions {
  orders?: readonly TrainLayerOrder[];
}

/** What a layer's backward needs from its forward. */
interface LayerForward {
  order: TrainLayerOrder;
  /** The input, time-last `[I, P·B, T]`, and (temporal-first, train) `[I, B·P, T]`. */
  tl: string;
  bpt?: string;
  /** per-pair: `K [I, 1, O·wOut, kh·wIn]` (a row band), `Mt [I, O, T, T']`, `s [I, hOut, O, wOut·B, T]`; temporal-first: `K [O, Q, I·P]`, `Mt [O, I, T, T']`, `u [O, I, P·B, T']`. */
  K: string;
  Mt: string;
  stage1: string;
  /** per-pair: the input's row bands `[I, hOut, kh·wIn, B·T]`. */
  bands?: string;
  /** train: the centred pre-BatchNorm activation `conv − mean`, its `1 / std` `[O, 1, 1]` and the element count per channel. */
  xc?: string;
  rstd?: string;
  count?: string;
  a: string; // post-ELU [O, Q·B, T']
  /** ELU's slope at the pre-activation (see {@link eluWithSlope}). */
  slope: string;
}

/**
 * ELU (alpha 1) as `max(z, e − 1)` with `e = exp(min(z, 0))`, in every engine graph (prediction, training, input
 * gradient): the same values as onnxruntime's Elu up to float32 rounding (`eᶻ − 1 ≥ z`, and `= 0 < z` above 0), and
 * its four vectorised element-wise passes cost half of that kernel (491k values, one thread: 0.45 against 0.93 ms on
 * cpu, 1.1 against 1.7 ms on wasm). `e` is also ELU's slope (1 for z ≥ 0, eᶻ below), so a backward multiplies by it:
 * one pass instead of three from the activation.
 */
export function eluWithSlope(g: OnnxGraph, z: string): { a: string; slope: string } {
  const slope = g.op('Exp', [g.op('Min', [z, g.scalar(0)])]);
  return { a: g.op('Max', [z, g.sub(slope, g.scalar(1))]), slope };
}

/** time-last `[C, P·B, T]` → `[C, B·P, T]` (a swap of outer dims with contiguous rows). */
function batchMajor(g: OnnxGraph, tl: string, C: number, P: number, T: number): string {
  return g.reshape(g.transpose(g.reshape(tl, [C, P, -1, T]), [0, 2, 1, 3]), [C, -1, T]);
}

/** time-last `[C, Q·B, T]` → positions-last `[C, T, B·Q]`. */
function timeLastToPositionsLast(g: OnnxGraph, tl: string, C: number, Q: number, T: number): string {
  return g.transpose(batchMajor(g, tl, C, Q, T), [0, 2, 1]);
}

/**
 * Builds the ONNX graph of a model for one session and stimulus length. Activations run in the time-last layout
 * `[C, H·W·B, T]`; each (out, in) kernel is rank 1 (temporal × spatial), so a layer is two GEMM stages in one of
 * the {@link TrainLayerOrder}s. `K` is the spatial kernel placed into a `[Q, P]` matrix per channel pair (output ×
 * input positions, padding folded in; per-pair: a row band's `[wOut, kh·wIn]`), `Mt` the temporal kernel placed into the banded `[T, T']` Toeplitz matrix
 * (one time block: training chunks are short); both are built in the graph from the PyTorch-layout weights
 * `wt [O, I, L]` and `ws [O, I, kh, kw]` through constant one-hot placements, and their gradients are projected
 * back to the taps with the same placements. The backward is written by hand; a temporal-first layer passes its
 * gradient on as a transposed layer of the other order: `v = dconv [1, O, T'·B, Q] × Kᵀ [I, O, Q, P]` (the
 * per-pair gradient, positions last), then `Mtᵀ [I, T, O·T'] × v [I, O·T', B·P]` contracts output channels and
 * taps together (no sum over output channels), and `v × x [I, B·P, T]` is its temporal weight gradient, one GEMM per
 * input channel.
 *
 * Graph inputs: `x [B, T, H, W, C]` (channels-last), per layer `wt`, `ws` and (train) `gamma`, `beta`, `bias` or
 * (eval) folded `scale`, `shift`; the readout's effective weight `rw [c·Q, N]` (mask · features · scale, row
 * `ch·Q + q`) and bias `rb [N]`; `targets [B, T, N]` (train) or `cotangent [B, T_out, N]` (vjp).
 * Outputs: train: `loss` (Poisson, sum), `d_<input>` for every weight input, and the batch statistics
 * `mean<l>`, `var<l>` (biased); vjp: `responses` and `d_x`; forward: `responses`.
 */
export function buildEngineGraph(plan: EnginePlan, kind: EngineGraphKind, options: EngineGraphOptions = {}): Uint8Array {
  const g = new OnnxGraph();
  const n = engineNames;
  const { C, H, W, T, c } = plan;
  const N = NEURONS;
  const train = kind === 'train';
  const orders = plan.layers.map((p, l) => options.orders?.[l] ?? defaultTrainLayerOrder(p.I));
  g.input(n.x, ['batch', T, H, W, C]);
  // [B, T, H, W, C] → [C, B·T·P] (2-D transpose) → [C, P, B·T] (batched 2-D transpose); onnxruntime runs a general
  // 4-D permutation element by element, several times slower
  const P0 = H * W;
  let tl = g.transpose(g.reshape(g.transpose(g.reshape(n.x, [-1, C]), [1, 0]), [C, -1, P0]), [0, 2, 1]);
  const fw: LayerForward[] = [];
  // one-hot placements per layer: spatial [kh·kw, Q·P] (and [kh·kw, P·Q] for the training graph's dKᵀ), temporal [L, T'·T]
  const spatialQP: string[] = [];
  const spatialPQ: string[] = [];
  const bandPlacement: string[] = [];
  const temporalTT: string[] = [];
  let act = '';
  plan.layers.forEach((p, l) => {
    const { I, O, L } = p;
    const order = orders[l]!;
    const P = p.hIn * p.wIn;
    const Q = p.hOut * p.wOut;
    const kk = p.kh * p.kw;
    const [Ti, To] = [p.tIn, p.tOut];
    g.input(n.wt(l), [O, I, L]);
    g.input(n.ws(l), [O, I, p.kh, p.kw]);
    const spatial = spatialTapIndex(p.hIn, p.wIn, p.kh, p.kw, p.ph, p.pw).index;
    const temporal = temporalTapIndex(L, Ti, To, p.pt[0]);
    spatialQP.push(order === 'temporal-first' ? oneHotPlacement(g, spatial, [kk, Q], P, 2, [kk, Q * P]) : '');
    spatialPQ.push(train && order === 'temporal-first' ? oneHotPlacement(g, spatial, [kk, Q], P, 1, [kk, P * Q]) : '');
    temporalTT.push(train ? oneHotPlacement(g, temporal, [L, To], Ti, 2, [L, To * Ti]) : ''); // projects d Mt to taps
    const toeplitz = toeplitzPlacement(g, L, Ti, To, p.pt[0]); // (t, t')
    let K: string;
    let Mt: string;
    let stage1: string;
    let conv: string; // [O, Q·B, T']
    let bpt: string | undefined;
    let bands: string | undefined;
    if (order === 'per-pair') {
      // the spatial stage on row bands, then each pair's Toeplitz product and the sum over input channels (row-bands.ts)
      bandPlacement[l] = rowBandPlacement(g, p);
      K = rowBandKernel(g, n.ws(l), p, bandPlacement[l]!);
      Mt = pairToeplitz(g, n.wt(l), toeplitz, p);
      bands = gatherRowBands(g, tl, p); // [I, hOut, kh·wIn, B·T]
      ({ conv, stage1 } = rowBandConv(g, K, bands, Mt, p));
    } else {
      Mt = g.reshape(g.matmul(g.reshape(n.wt(l), [O * I, L]), toeplitz), [O, I, Ti, To]);
      // K[o, q, i·P + p]: the placement batched over q gives [Q, O·I, P], then a swap of outer dims with rows of
      // I·P (a 4-D permutation of [O, I, Q, P] runs element by element)
      const placedByQ = g.reshape(g.transpose(g.reshape(spatialQP[l]!, [kk, Q, P]), [1, 0, 2]), [Q, kk, P]);
      const KQ = g.matmul(g.reshape(n.ws(l), [1, O * I, kk]), placedByQ); // [Q, O·I, P]
      K = g.transpose(g.reshape(KQ, [Q, O, I * P]), [1, 0, 2]); // [O, Q, I·P]
      stage1 = g.matmul(g.reshape(tl, [1, I, -1, Ti]), Mt); // [O, I, P·B, T']
      conv = g.reshape(g.matmul(K, g.reshape(stage1, [O, I * P, -1])), [O, -1, To]); // [O, Q·B, T']
      if (train) bpt = batchMajor(g, tl, I, P, Ti);
    }
    let z: string;
    let xc: string | undefined;
    let rstd: string | undefined;
    let count: string | undefined;
    if (train) {
      for (const name of [n.gamma(l), n.beta(l), n.bias(l)]) g.input(name, [O]);
      // batch statistics over batch and positions; x̂ = (conv − mean)·rstd is never formed: γ·rstd is one
      // per-channel factor, and the backward works on conv − mean (fewer passes over the activation)
      count = g.div(g.op('Cast', [g.op('Size', [conv])], { to: 1 }), g.scalar(O));
      const mean = g.reduceMean(conv, [1, 2]);
      xc = g.sub(conv, mean);
      const variance = g.div(g.op('ReduceSumSquare', [xc], { axes: [1, 2], keepdims: 1 }), count);
      rstd = g.op('Reciprocal', [g.op('Sqrt', [g.add(variance, g.scalar(p.eps))])]);
      const shift = g.reshape(g.add(n.beta(l), n.bias(l)), [O, 1, 1]);
      z = g.add(g.mul(xc, g.mul(g.reshape(n.gamma(l), [O, 1, 1]), rstd)), shift);
      g.output(n.batchMean(l), g.reshape(mean, [O]), [O]);
      g.output(n.batchVar(l), g.reshape(variance, [O]), [O]);
    } else {
      g.input(n.scale(l), [O]);
      g.input(n.shift(l), [O]);
      z = g.add(g.mul(conv, g.reshape(n.scale(l), [O, 1, 1])), g.reshape(n.shift(l), [O, 1, 1]));
    }
    const { a, slope } = eluWithSlope(g, z);
    fw.push({
      order,
      tl,
      ...(bpt ? { bpt } : {}),
      ...(bands ? { bands } : {}),
      K,
      Mt,
      stage1,
      a,
      slope,
      ...(xc && rstd && count ? { xc, rstd, count } : {}),
    });
    act = a;
    tl = a; // [C, P·B, T] for the next layer
  });
  const last = plan.layers[plan.layers.length - 1]!;
  const Q = last.hOut * last.wOut;
  const T2 = last.tOut;
  const tOut = plan.tOut;
  const feat = plan.cut > 0 ? g.slice(act, [plan.cut], [T2], [2]) : act; // [c, Q·B, T_out]
  const feat2 = g.reshape(feat, [c * Q, -1]); // [c·Q, B·T_out]
  g.input(n.readoutWeight, [c * Q, N]);
  g.input(n.readoutBias, [N]);
  const pre = g.add(g.matmul(g.transpose(n.readoutWeight, [1, 0]), feat2), g.reshape(n.readoutBias, [-1, 1])); // [N, B·T_out]
  const out =
    plan.nonlinearity === 'softplus' ? g.op('Softplus', [pre]) : plan.nonlinearity === 'exp' ? g.op('Exp', [pre]) : g.op('Identity', [pre]);
  const toBTN = (v: string) => g.transpose(g.reshape(v, [0, -1, tOut]), [1, 2, 0]); // [N, B·T_out] → [B, T_out, N]
  const fromBTN = (v: string) => g.reshape(g.transpose(v, [2, 0, 1]), [0, -1]);
  if (kind === 'forward') {
    g.output(n.output, toBTN(out), ['batch', tOut, N]);
    return g.encode('openretina_forward');
  }
  let dout: string;
  if (train) {
    g.input(n.targets, ['batch', 'frames', N]);
    const tTarget = g.op('Gather', [g.op('Shape', [n.targets]), g.ints([1])], { axis: 0 });
    const y = fromBTN(g.op('Slice', [n.targets, g.sub(tTarget, g.ints([tOut])), tTarget, g.ints([1])]));
    const outEps = g.add(out, g.scalar(1e-16));
    g.output(n.loss, g.reduceSum(g.sub(out, g.mul(y, g.op('Log', [outEps]))), [0, 1], 0), []);
    dout = g.sub(g.scalar(1), g.div(y, outEps));
  } else {
    g.input(n.cotangent, ['batch', tOut, N]);
    g.output(n.output, toBTN(out), ['batch', tOut, N]);
    dout = fromBTN(n.cotangent);
  }
  const dpre =
    plan.nonlinearity === 'softplus' ? g.mul(dout, g.op('Sigmoid', [pre])) : plan.nonlinearity === 'exp' ? g.mul(dout, out) : dout; // [N, B·T_out]
  if (train) {
    g.output(n.grad(n.readoutBias), g.reduceSum(dpre, [1], 0), [N]);
    g.output(n.grad(n.readoutWeight), g.matmul(feat2, g.transpose(dpre, [1, 0])), [c * Q, N]);
  }
  // d feat [c, Q·B, T_out], zero for the cut frames
  let da = g.reshape(g.matmul(n.readoutWeight, dpre), [c, -1, tOut]);
  if (plan.cut > 0) da = g.op('Pad', [da, g.ints([0, 0, plan.cut, 0, 0, 0])]);
  for (let l = plan.layers.length - 1; l >= 0; l--) {
    const p = plan.layers[l]!;
    const f = fw[l]!;
    const { I, O, L } = p;
    const P = p.hIn * p.wIn;
    const Q2 = p.hOut * p.wOut;
    const kk = p.kh * p.kw;
    const [Ti, To] = [p.tIn, p.tOut];
    const dz = g.mul(da, f.slope);
    let dconv: string; // [O, Q·B, T']
    if (train) {
      const { xc, rstd, count } = f as Required<LayerForward>;
      const dbias = g.reduceSum(dz, [1, 2], 1); // [O, 1, 1]
      const dzxc = g.reduceSum(g.mul(dz, xc), [1, 2], 1); // Σ dz·(conv − mean)
      g.output(n.grad(n.bias(l)), g.reshape(dbias, [O]), [O]);
      g.output(n.grad(n.beta(l)), g.reshape(dbias, [O]), [O]);
      g.output(n.grad(n.gamma(l)), g.reshape(g.mul(dzxc, rstd), [O]), [O]); // Σ dz·x̂
      // d conv = γ·rstd·(dz − mean(dz) − x̂·mean(dz·x̂)) = γ·rstd·(dz − mean(dz) − xc·rstd²·mean(dz·xc)), means over
      // batch and positions
      const k = g.mul(g.reshape(n.gamma(l), [O, 1, 1]), rstd);
      const xcFactor = g.div(g.mul(dzxc, g.mul(rstd, rstd)), count);
      dconv = g.mul(k, g.sub(g.sub(dz, g.div(dbias, count)), g.mul(xc, xcFactor)));
    } else {
      dconv = g.mul(dz, g.reshape(n.scale(l), [O, 1, 1]));
    }
    const needInput = l > 0 || !train;
    // d wt from the Toeplitz gradient `[rows·cols, T'·T]` ((t', t) order), d ws from the placed kernels' `[rows·cols, Q·P]`
    const wtGrad = (dMt: string, rows: number, cols: number) =>
      g.reshape(g.matmul(dMt, g.transpose(temporalTT[l]!, [1, 0])), [rows, cols, L]);
    const wsGrad = (dK: string, rows: number, cols: number, placement = spatialQP[l]!) =>
      g.reshape(g.matmul(dK, g.transpose(placement, [1, 0])), [rows, cols, p.kh, p.kw]);
    if (f.order === 'per-pair') {
      // temporal: st = s @ Mt;  ds = dconv @ Mtᵀ (broadcast over I), dMtᵀ = dconvᵀ @ s, summed over row bands
      const { hOut, wOut, hIn, wIn } = p;
      const band = p.kh * wIn;
      const dcb = g.reshape(g.transpose(g.reshape(dconv, [O, hOut, -1]), [1, 0, 2]), [1, hOut, O, -1, To]); // [1, hOut, O, wOut·B, T']
      const ds = g.matmul(dcb, g.reshape(g.transpose(f.Mt, [0, 1, 3, 2]), [I, 1, O, To, Ti])); // [I, hOut, O, wOut·B, T]
      const dsb = g.reshape(ds, [I, hOut, O * wOut, -1]);
      if (train) {
        const dMtT = g.reduceSum(g.matmul(g.transpose(dcb, [0, 1, 2, 4, 3]), f.stage1), [1], 0); // [I, O, T', T]
        g.output(n.grad(n.wt(l)), g.transpose(wtGrad(g.reshape(dMtT, [I * O, To * Ti]), I, O), [1, 0, 2]), [O, I, L]);
        // spatial: s = Kb @ xb;  dKb = Σ_rows ds @ xbᵀ
        // as its transpose, bands · dsbᵀ: the long side (kh·wIn = 176 at the bench model) as the product's rows runs
        // faster than O·wOut (96) there; the transpose back is of the small summed result
        const dKT = g.reduceSum(g.matmul(f.bands!, g.transpose(dsb, [0, 1, 3, 2])), [1], 0); // [I, kh·wIn, O·wOut]
        const dK = g.transpose(dKT, [0, 2, 1]); // [I, O·wOut, kh·wIn]
        g.output(n.grad(n.ws(l)), g.transpose(wsGrad(g.reshape(dK, [I * O, wOut * band]), I, O, bandPlacement[l]!), [1, 0, 2, 3]), [
          O,
          I,
          p.kh,
          p.kw,
        ]);
      }
      if (needInput) {
        // each band's gradient [I, hOut·kh, wIn·B·T] added back onto its input rows by a 0/1 [hIn, hOut·kh] product
        const dxb = g.reshape(g.matmul(g.transpose(f.K, [0, 1, 3, 2]), dsb), [I, hOut * p.kh, -1]);
        const rowOf = Int32Array.from({ length: hOut * p.kh }, (_, k) => {
          const h = Math.floor(k / p.kh) + (k % p.kh) - p.ph[0];
          return h >= 0 && h < hIn ? h : -1;
        });
        const R = oneHotPlacement(g, rowOf, [hOut * p.kh], hIn, 0, [hIn, hOut * p.kh]);
        da = g.reshape(g.matmul(R, dxb), [I, -1, Ti]); // [I, P·B, T]
      }
    } else {
      // conv = K @ u:  dKᵀ = u @ dconvᵀ.  The per-pair gradient positions-last, v = dconv · Kᵀ [I, O, T'·B, P]; then
      // u = x @ Mt:  dMt_i = v_i [O·T', B·P] @ x_i [B·P, T],  dx_i = Mt_iᵀ [T, O·T'] @ v_i
      if (train) {
        // dKᵀ = u · dconvᵀ [O, I·P, Q] rather than dK [O, Q, I·P]: the long side (I·P) as the product's rows runs
        // faster, and projecting it to the taps through the placement in (p, q) order needs no transpose of dK
        const dKT = g.matmul(g.reshape(f.stage1, [O, I * P, -1]), g.transpose(g.reshape(dconv, [O, Q2, -1]), [0, 2, 1])); // [O, I·P, Q]
        g.output(n.grad(n.ws(l)), wsGrad(g.reshape(dKT, [O * I, P * Q2]), O, I, spatialPQ[l]!), [O, I, p.kh, p.kw]);
      }
      const KIO = g.reshape(g.matmul(g.reshape(g.transpose(n.ws(l), [1, 0, 2, 3]), [I * O, kk]), spatialQP[l]!), [I, O, Q2, P]);
      const dconvPl = g.reshape(timeLastToPositionsLast(g, dconv, O, Q2, To), [1, O, -1, Q2]); // [1, O, T'·B, Q]
      const v = g.reshape(g.matmul(dconvPl, KIO), [I, O * To, -1]); // [I, O·T', B·P]
      if (train) {
        const dMt = g.reshape(g.matmul(v, f.bpt!), [I, O, To * Ti]); // [I, O, T'·T]
        g.output(n.grad(n.wt(l)), wtGrad(g.reshape(g.transpose(dMt, [1, 0, 2]), [O * I, To * Ti]), O, I), [O, I, L]);
      }
      if (needInput) {
        const MtT = g.reshape(g.transpose(f.Mt, [1, 2, 0, 3]), [I, Ti, O * To]); // [I, T, O·T']
        da = g.reshape(positionsLastToTimeLast(g, g.matmul(MtT, v), I, P, Ti), [I, -1, Ti]); // [I, T, B·P] → [I, P·B, T]
      }
    }
  }
  if (!train) {
    // [C, P·B, T] → [C, B·T, P] → [B·T·P, C] → [B, T, H, W, C]
    const dbtp = g.reshape(g.transpose(g.reshape(da, [C, H * W, -1]), [0, 2, 1]), [C, -1]); // [C, B·T·P]
    g.output(n.inputGrad, g.reshape(g.transpose(dbtp, [1, 0]), [-1, T, H, W, C]), ['batch', T, H, W, C]);
    return g.encode('openretina_vjp');
  }
  return g.encode('openretina_train');
}
