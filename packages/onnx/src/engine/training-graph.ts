import { SpaceTimeSeparableConv3d, resolvePadding3d } from '@openretina/layers';
import { UnsupportedError } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { OnnxGraph } from '../graph-builder.js';
import { oneHotPlacement, spatialTapIndex, temporalTapIndex } from './placements.js';

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
  const readout = (model.readout as unknown as { readout(s: string): AnyModule }).readout(session);
  if (typeof readout.mask !== 'function' || !readout.features || !readout.scaleParam) {
    throw new UnsupportedError(`The ONNX engine supports Gaussian-mask readouts only (got ${readout.constructor.name}).`);
  }
  const nl = readout.nonlinearity;
  if (nl !== 'softplus' && nl !== 'identity' && nl !== 'exp')
    throw new UnsupportedError(`The ONNX engine does not cover the readout nonlinearity ${String(nl)}.`);
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

interface LayerForward {
  h3: string; // input [I, P, B·T]
  K: string; // [I, O·Q, P]
  Mt: string; // [I, O, T, T']
  s4: string; // [I, O, Q·B, T]
  xhat?: string;
  rstd?: string;
  z: string; // pre-ELU [O, Q·B, T']
  a: string; // post-ELU
}

/**
 * Builds the ONNX graph of a model for one session and stimulus length. Activations inside run in the layout
 * `[C, H·W, B, T]` (channels first, time last), so every convolution is a large batched GEMM: the spatial depthwise
 * conv is a product with a `[O·Q, P]` matrix per input channel (rows: output channel × output position; columns:
 * input positions; padding folded in), the temporal depthwise conv a product of the `[Q·B, T]` slab of each channel
 * pair with a banded `[T, T']` (Toeplitz) matrix. Both matrices are built in the graph from the PyTorch-layout
 * weights `wt [O, I, L]` and `ws [O, I, kh, kw]` through constant placement tensors; the backward is written out by
 * hand with the same ops (no reductions over the batch: it is inside the GEMMs' contractions).
 *
 * Graph inputs: `x [B, T, H, W, C]` (channels-last), per layer `wt`, `ws` and (train) `gamma`, `beta`, `bias` or
 * (eval) folded `scale`, `shift`; the readout's effective weight `rw [c·Q, N]` (mask · features · scale, row
 * `ch·Q + q`) and bias `rb [N]`; `targets [B, T, N]` (train) or `cotangent [B, T_out, N]` (vjp).
 * Outputs: train: `loss` (Poisson, sum), `d_<input>` for every weight input, and the batch statistics
 * `mean<l>`, `var<l>` (biased); vjp: `responses` and `d_x`; forward: `responses`.
 */
export function buildEngineGraph(plan: EnginePlan, kind: EngineGraphKind): Uint8Array {
  const g = new OnnxGraph();
  const n = engineNames;
  const { C, H, W, T, c } = plan;
  const N = NEURONS;
  const train = kind === 'train';
  g.input(n.x, ['batch', T, H, W, C]);
  // [B, T, H, W, C] → [C, B·T·P] (2-D transpose) → [C, P, B·T] (batched 2-D transpose); onnxruntime runs a general
  // 4-D permutation element by element, several times slower
  let h3 = g.transpose(g.reshape(g.transpose(g.reshape(n.x, [-1, C]), [1, 0]), [C, -1, H * W]), [0, 2, 1]);
  const fw: LayerForward[] = [];
  const placements: string[] = [];
  let act = '';
  plan.layers.forEach((p, l) => {
    const { I, O } = p;
    const P = p.hIn * p.wIn;
    const Q = p.hOut * p.wOut;
    const kk = p.kh * p.kw;
    g.input(n.wt(l), [O, I, p.L]);
    g.input(n.ws(l), [O, I, p.kh, p.kw]);
    const E = oneHotPlacement(g, spatialTapIndex(p.hIn, p.wIn, p.kh, p.kw, p.ph, p.pw).index, [kk, Q], P, 2, [kk, Q * P]);
    const D = oneHotPlacement(g, temporalTapIndex(p.L, p.tIn, p.tOut, p.pt[0]), [p.L, p.tOut], p.tIn, 1, [p.L, p.tIn * p.tOut]);
    placements.push(E);
    // K[i, o·Q + q, p] = Σ_ab ws[o, i, a, b] E[ab, q·P + p]
    const wsIO = g.reshape(g.transpose(n.ws(l), [1, 0, 2, 3]), [I * O, kk]);
    const K = g.reshape(g.matmul(wsIO, E), [I, O * Q, P]);
    const wtIO = g.reshape(g.transpose(n.wt(l), [1, 0, 2]), [I * O, p.L]);
    const Mt = g.reshape(g.matmul(wtIO, D), [I, O, p.tIn, p.tOut]);
    const s4 = g.reshape(g.matmul(K, h3), [I, O, -1, p.tIn]); // [I, O, Q·B, T]
    const st = g.matmul(s4, Mt); // [I, O, Q·B, T']
    const conv = I === 1 ? g.reshape(st, [O, -1, p.tOut]) : g.reduceSum(st, [0], 0); // [O, Q·B, T']
    let z: string;
    let xhat: string | undefined;
    let rstd: string | undefined;
    if (train) {
      for (const name of [n.gamma(l), n.beta(l), n.bias(l)]) g.input(name, [O]);
      const mean = g.reduceMean(conv, [1, 2]);
      const xc = g.sub(conv, mean);
      const variance = g.reduceMean(g.mul(xc, xc), [1, 2]);
      rstd = g.op('Reciprocal', [g.op('Sqrt', [g.add(variance, g.scalar(p.eps))])]);
      xhat = g.mul(xc, rstd);
      const shift = g.reshape(g.add(n.beta(l), n.bias(l)), [O, 1, 1]);
      z = g.add(g.mul(xhat, g.reshape(n.gamma(l), [O, 1, 1])), shift);
      g.output(n.batchMean(l), g.reshape(mean, [O]), [O]);
      g.output(n.batchVar(l), g.reshape(variance, [O]), [O]);
    } else {
      g.input(n.scale(l), [O]);
      g.input(n.shift(l), [O]);
      z = g.add(g.mul(conv, g.reshape(n.scale(l), [O, 1, 1])), g.reshape(n.shift(l), [O, 1, 1]));
    }
    const a = g.op('Elu', [z], { alpha: 1 });
    fw.push({ h3, K, Mt, s4, z, a, ...(xhat ? { xhat } : {}), ...(rstd ? { rstd } : {}) });
    act = a;
    h3 = g.reshape(a, [O, Q, -1]); // [C, P, B·T] for the next layer
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
    const { I, O } = p;
    const Q2 = p.hOut * p.wOut;
    const P = p.hIn * p.wIn;
    // ELU: d z = da · (z > 0 ? 1 : a + 1)
    const dz = g.op('Where', [g.op('Greater', [f.z, g.scalar(0)]), da, g.mul(da, g.add(f.a, g.scalar(1)))]);
    let dconv: string;
    if (train) {
      const dbias = g.reduceSum(dz, [1, 2], 1); // [O, 1, 1]
      const dgamma = g.reduceSum(g.mul(dz, f.xhat!), [1, 2], 1);
      g.output(n.grad(n.bias(l)), g.reshape(dbias, [O]), [O]);
      g.output(n.grad(n.beta(l)), g.reshape(dbias, [O]), [O]);
      g.output(n.grad(n.gamma(l)), g.reshape(dgamma, [O]), [O]);
      // d conv = γ·rstd·(dz − mean(dz) − x̂·mean(dz·x̂)), means over batch and positions
      const count = g.div(g.op('Cast', [g.op('Size', [dz])], { to: 1 }), g.scalar(O));
      const k = g.mul(g.reshape(n.gamma(l), [O, 1, 1]), f.rstd!);
      dconv = g.mul(k, g.sub(g.sub(dz, g.div(dbias, count)), g.mul(f.xhat!, g.div(dgamma, count))));
    } else {
      dconv = g.mul(dz, g.reshape(n.scale(l), [O, 1, 1]));
    }
    // temporal: st = s4 @ Mt;  ds4 = dconv @ Mtᵀ (broadcast over I), dMtᵀ = dconvᵀ @ s4
    const dc4 = g.reshape(dconv, [1, O, -1, p.tOut]);
    const ds4 = g.matmul(dc4, g.transpose(f.Mt, [0, 1, 3, 2])); // [I, O, Q·B, T]
    const ds3 = g.reshape(ds4, [I, O * Q2, -1]); // [I, O·Q, B·T]
    if (train) {
      const dMtT = g.matmul(g.transpose(dc4, [0, 1, 3, 2]), f.s4); // [I, O, T', T]
      const DT = oneHotPlacement(g, temporalTapIndex(p.L, p.tIn, p.tOut, p.pt[0]), [p.L, p.tOut], p.tIn, 2, [p.L, p.tOut * p.tIn]);
      const dwtIO = g.matmul(g.reshape(dMtT, [I * O, p.tOut * p.tIn]), g.transpose(DT, [1, 0])); // [I·O, L]
      g.output(n.grad(n.wt(l)), g.transpose(g.reshape(dwtIO, [I, O, p.L]), [1, 0, 2]), [O, I, p.L]);
      // spatial: s = K @ h; dK = ds @ hᵀ
      const dK = g.matmul(ds3, g.transpose(f.h3, [0, 2, 1])); // [I, O·Q, P]
      const ET = g.transpose(placements[l]!, [1, 0]); // [Q·P, kk]
      const dwsIO = g.matmul(g.reshape(dK, [I * O, Q2 * P]), ET); // [I·O, kk]
      g.output(n.grad(n.ws(l)), g.transpose(g.reshape(dwsIO, [I, O, p.kh, p.kw]), [1, 0, 2, 3]), [O, I, p.kh, p.kw]);
    }
    if (l > 0 || !train) {
      da = g.reshape(g.matmul(g.transpose(f.K, [0, 2, 1]), ds3), [I, -1, p.tIn]); // [I, P·B, T]
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
