import * as tf from '@tensorflow/tfjs-core';
import { hostMemoryBackend, readFloatsSync, tensorFromHost } from '@openretina/layers';
import { ConfigError } from '@openretina/contracts';
import { Optimizer } from './optimizer.js';

/*
 * `torch.optim.AdamW`: the optimizer OpenRetina trains with (its update rule and hyper-parameter checks).
 */

/** Options of {@link AdamW}; the defaults are PyTorch's. */
export interface AdamWOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Default 0.01 (decoupled: p ← p·(1 − lr·wd) before the Adam update). */
  weightDecay?: number;
  /** Default false. */
  amsgrad?: boolean;
  /** Default false. */
  maximize?: boolean;
}

/** `torch.optim.AdamW` (decoupled weight decay, bias correction as PyTorch). State keys: `step`, `exp_avg`, `exp_avg_sq` (`max_exp_avg_sq` with amsgrad). */
export class AdamW extends Optimizer {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;

  constructor(params: ReadonlyMap<string, tf.Variable>, options: AdamWOptions = {}) {
    super(params, options.lr ?? 1e-3);
    const [b1, b2] = options.betas ?? [0.9, 0.999];
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new ConfigError(`Invalid betas: [${b1}, ${b2}] (each must be in [0, 1)).`);
    this.betas = [b1, b2];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    if (!(this.eps >= 0)) throw new ConfigError(`Invalid eps: ${this.eps}.`);
    if (!(this.weightDecay >= 0)) throw new ConfigError(`Invalid weight_decay: ${this.weightDecay}.`);
    this.amsgrad = options.amsgrad ?? false;
    this.maximize = options.maximize ?? false;
  }

  protected groupOptions(): Record<string, unknown> {
    return {
      betas: [...this.betas],
      eps: this.eps,
      weight_decay: this.weightDecay,
      amsgrad: this.amsgrad,
      maximize: this.maximize,
      foreach: null,
      capturable: false,
    };
  }

  protected setGroupOptions(g: Record<string, unknown>): void {
    if (Array.isArray(g.betas)) this.betas = [Number(g.betas[0]), Number(g.betas[1])];
    if (typeof g.eps === 'number') this.eps = g.eps;
    if (typeof g.weight_decay === 'number') this.weightDecay = g.weight_decay;
    if (typeof g.amsgrad === 'boolean') this.amsgrad = g.amsgrad;
    if (typeof g.maximize === 'boolean') this.maximize = g.maximize;
  }

  protected update(name: string, param: tf.Variable, gradIn: tf.Tensor): void {
    if (hostMemoryBackend()) {
      this.updateOnHost(name, param, gradIn);
      return;
    }
    const grad = this.maximize ? tf.neg(gradIn) : gradIn;
    const [b1, b2] = this.betas;
    const expAvg = this.slot(name, 'exp_avg', param);
    const expAvgSq = this.slot(name, 'exp_avg_sq', param);
    const step = (this.steps.get(name) ?? 0) + 1;
    this.steps.set(name, step);
    // Decoupled weight decay first, on the parameter itself.
    const decayed = this.weightDecay !== 0 ? tf.mul(param, 1 - this.lr * this.weightDecay) : param;
    const m = tf.add(tf.mul(expAvg, b1), tf.mul(grad, 1 - b1));
    const v = tf.add(tf.mul(expAvgSq, b2), tf.mul(tf.mul(grad, grad), 1 - b2));
    expAvg.assign(m);
    expAvgSq.assign(v);
    const bc1 = 1 - b1 ** step;
    const bc2Sqrt = Math.sqrt(1 - b2 ** step);
    let second: tf.Tensor = v;
    if (this.amsgrad) {
      const maxSq = this.slot(name, 'max_exp_avg_sq', param);
      second = tf.maximum(maxSq, v);
      maxSq.assign(second);
    }
    const denom = tf.add(tf.div(tf.sqrt(second), bc2Sqrt), this.eps);
    param.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), this.lr / bc1)));
  }

  /**
   * The same update on the host, element by element, for backends whose tensors live in host memory (cpu, wasm):
   * per parameter two reads and one write of TF.js tensors (the moments stay in host arrays between steps) instead
   * of ~20 small kernels and their scalar tensors. Each step rounds to float32 as the kernel would (`fround` after
   * every operation on float32 operands, scalars rounded to float32 as TF.js makes them), so the results are bit for
   * bit those of the tensor path above.
   */
  private updateOnHost(name: string, param: tf.Variable, gradIn: tf.Tensor): void {
    const f = Math.fround;
    const [b1, b2] = this.betas;
    const n = param.size;
    // the moments in place: each element is read before it is written
    const ma = this.hostSlot(name, 'exp_avg', n);
    const va = this.hostSlot(name, 'exp_avg_sq', n);
    const mx = this.amsgrad ? this.hostSlot(name, 'max_exp_avg_sq', n) : null;
    const step = (this.steps.get(name) ?? 0) + 1;
    this.steps.set(name, step);
    const p = readFloatsSync(param);
    const g = readFloatsSync(gradIn);
    const pOut = new Float32Array(n);
    const c: AdamwConstants = {
      decay: this.weightDecay !== 0 ? f(1 - this.lr * this.weightDecay) : 1,
      b1: f(b1),
      b2: f(b2),
      oneMinusB1: f(1 - b1),
      oneMinusB2: f(1 - b2),
      bc2Sqrt: f(Math.sqrt(1 - b2 ** step)),
      eps: f(this.eps),
      stepSize: f(this.lr / (1 - b1 ** step)),
      maximize: this.maximize,
    };
    adamwElements({ p, g, m: ma, v: va, maxV: mx, pOut, mOut: ma, vOut: va, maxVOut: mx }, c);
    param.assign(tensorFromHost(pOut, param.shape)); // the next step reads pOut back without a copy
  }
}

/**
 * The host update's constants, rounded to float32 as TF.js makes its scalars (`decay` is 1 without weight decay;
 * `bc2Sqrt` is √(1 − β2^t), `stepSize` lr / (1 − β1^t)).
 */
interface AdamwConstants {
  decay: number;
  b1: number;
  b2: number;
  oneMinusB1: number;
  oneMinusB2: number;
  bc2Sqrt: number;
  eps: number;
  stepSize: number;
  maximize: boolean;
}

/** One parameter's arrays: inputs, outputs, and the running maximum of the second moment with amsgrad (else null). */
interface AdamwArrays {
  p: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
  maxV: Float32Array | null;
  pOut: Float32Array;
  mOut: Float32Array;
  vOut: Float32Array;
  maxVOut: Float32Array | null;
}

/**
 * AdamW on one parameter's elements: `fround` after every operation on float32 operands, as the kernels round. A
 * function of arrays and numbers alone (no property loads of the optimizer in the loop), primed when the module loads
 * (below).
 */
function adamwElements(a: AdamwArrays, c: AdamwConstants): void {
  const f = Math.fround;
  const { p, g, m: ma, v: va, maxV, pOut, mOut, vOut, maxVOut } = a;
  const { decay, b1, b2, oneMinusB1, oneMinusB2, bc2Sqrt, eps, stepSize, maximize } = c;
  for (let i = 0; i < p.length; i++) {
    const gi = maximize ? -g[i]! : g[i]!;
    const decayed = decay !== 1 ? f(p[i]! * decay) : p[i]!;
    const m = f(f(ma[i]! * b1) + f(gi * oneMinusB1));
    const v = f(f(va[i]! * b2) + f(f(gi * gi) * oneMinusB2));
    mOut[i] = m;
    vOut[i] = v;
    let second = v;
    if (maxV && maxVOut) {
      second = maximumOf(maxV[i]!, v);
      maxVOut[i] = second;
    }
    const denom = f(f(f(Math.sqrt(second)) / bc2Sqrt) + eps);
    pOut[i] = f(decayed - f(f(m / denom) * stepSize));
  }
}

// V8 runs a function unoptimised until it has run a while: a training run's first steps spent ~2–20 ms each in this
// loop (13·10³ parameters of the bench model; ~0.7 ms once optimised), the bench's b32 step figure ~5 ms per step of
// its window. A few calls on small arrays when the module loads (~1 ms) let V8 compile it before the first step.
{
  const x = new Float32Array(1024).fill(0.5);
  const out = new Float32Array(1024);
  const arrays = { p: x, g: x, m: x, v: x, maxV: null, pOut: out, mOut: out, vOut: out, maxVOut: null };
  const c = {
    decay: 0.999,
    b1: 0.9,
    b2: 0.999,
    oneMinusB1: 0.1,
    oneMinusB2: 0.001,
    bc2Sqrt: 0.03,
    eps: 1e-8,
    stepSize: 0.01,
    maximize: false,
  };
  for (let k = 0; k < 8; k++) adamwElements(arrays, c);
}

/** `tf.maximum` of one element: NaN when either is NaN. */
function maximumOf(a: number, b: number): number {
  return Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b);
}
