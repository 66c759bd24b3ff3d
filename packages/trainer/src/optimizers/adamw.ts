import * as tf from '@tensorflow/tfjs-core';
import { hostMemoryBackend } from '@openretina/layers';
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
   * per parameter four reads and three writes instead of ~20 small kernels and their scalar tensors. Each step
   * rounds to float32 as the kernel would (`fround` after every operation on float32 operands, scalars rounded to
   * float32 as TF.js makes them), so the results are bit for bit those of the tensor path above.
   */
  private updateOnHost(name: string, param: tf.Variable, gradIn: tf.Tensor): void {
    const f = Math.fround;
    const [b1, b2] = this.betas;
    const expAvg = this.slot(name, 'exp_avg', param);
    const expAvgSq = this.slot(name, 'exp_avg_sq', param);
    const maxSq = this.amsgrad ? this.slot(name, 'max_exp_avg_sq', param) : null;
    const step = (this.steps.get(name) ?? 0) + 1;
    this.steps.set(name, step);
    const p = param.dataSync() as Float32Array;
    const g = gradIn.dataSync() as Float32Array;
    const ma = expAvg.dataSync() as Float32Array;
    const va = expAvgSq.dataSync() as Float32Array;
    const mx = maxSq ? (maxSq.dataSync() as Float32Array) : null;
    const n = p.length;
    const pOut = new Float32Array(n);
    const mOut = new Float32Array(n);
    const vOut = new Float32Array(n);
    const mxOut = mx ? new Float32Array(n) : null;
    const c = HOST_CONSTANTS;
    c[0] = this.weightDecay !== 0 ? f(1 - this.lr * this.weightDecay) : 1;
    c[1] = f(b1);
    c[2] = f(b2);
    c[3] = f(1 - b1);
    c[4] = f(1 - b2);
    c[5] = f(Math.sqrt(1 - b2 ** step));
    c[6] = f(this.eps);
    c[7] = f(this.lr / (1 - b1 ** step));
    c[8] = this.maximize ? -1 : 1;
    if (mx && mxOut) adamwAmsgradElements(p, g, ma, va, mx, pOut, mOut, vOut, mxOut, c, this.weightDecay !== 0);
    else adamwElements(p, g, ma, va, pOut, mOut, vOut, c, this.weightDecay !== 0);
    expAvg.assign(tf.tensor(mOut, param.shape));
    expAvgSq.assign(tf.tensor(vOut, param.shape));
    if (maxSq && mxOut) maxSq.assign(tf.tensor(mxOut, param.shape));
    param.assign(tf.tensor(pOut, param.shape));
  }
}

/**
 * The host update's constants, rounded to float32 as TF.js makes its scalars: decay factor, β1, β2, 1 − β1, 1 − β2,
 * √(1 − β2^t), eps, step size lr / (1 − β1^t), and the gradient's sign (−1 when maximizing).
 */
const HOST_CONSTANTS = new Float64Array(9);

/**
 * AdamW on one parameter's elements: `fround` after every operation on float32 operands, as the kernels round. A
 * function of arrays and numbers alone (no property loads in the loop), primed when the module loads (below).
 */
function adamwElements(
  p: Float32Array,
  g: Float32Array,
  ma: Float32Array,
  va: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  c: Float64Array,
  decayOn: boolean,
): void {
  const f = Math.fround;
  const decay = c[0]!;
  const fb1 = c[1]!;
  const fb2 = c[2]!;
  const c1 = c[3]!;
  const c2 = c[4]!;
  const bc2Sqrt = c[5]!;
  const eps = c[6]!;
  const stepSize = c[7]!;
  const sign = c[8]!;
  for (let i = 0; i < p.length; i++) {
    const gi = sign < 0 ? -g[i]! : g[i]!;
    const decayed = decayOn ? f(p[i]! * decay) : p[i]!;
    const m = f(f(ma[i]! * fb1) + f(gi * c1));
    const v = f(f(va[i]! * fb2) + f(f(gi * gi) * c2));
    mOut[i] = m;
    vOut[i] = v;
    const denom = f(f(f(Math.sqrt(v)) / bc2Sqrt) + eps);
    pOut[i] = f(decayed - f(f(m / denom) * stepSize));
  }
}

/** {@link adamwElements} with amsgrad: the denominator from the running maximum of the second moment. */
function adamwAmsgradElements(
  p: Float32Array,
  g: Float32Array,
  ma: Float32Array,
  va: Float32Array,
  mx: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  mxOut: Float32Array,
  c: Float64Array,
  decayOn: boolean,
): void {
  const f = Math.fround;
  const decay = c[0]!;
  const fb1 = c[1]!;
  const fb2 = c[2]!;
  const c1 = c[3]!;
  const c2 = c[4]!;
  const bc2Sqrt = c[5]!;
  const eps = c[6]!;
  const stepSize = c[7]!;
  const sign = c[8]!;
  for (let i = 0; i < p.length; i++) {
    const gi = sign < 0 ? -g[i]! : g[i]!;
    const decayed = decayOn ? f(p[i]! * decay) : p[i]!;
    const m = f(f(ma[i]! * fb1) + f(gi * c1));
    const v = f(f(va[i]! * fb2) + f(f(gi * gi) * c2));
    mOut[i] = m;
    vOut[i] = v;
    const second = maximumOf(mx[i]!, v);
    mxOut[i] = second;
    const denom = f(f(f(Math.sqrt(second)) / bc2Sqrt) + eps);
    pOut[i] = f(decayed - f(f(m / denom) * stepSize));
  }
}

// V8 runs a function unoptimised until it has run a while: a training run's first steps spent ~2–20 ms each in this
// loop (13·10³ parameters of the bench model; ~0.7 ms once optimised), the bench's b32 step figure ~5 ms per step of
// its window. A few calls on small arrays when the module loads (~1 ms) let V8 compile it before the first step.
{
  const a = new Float32Array(1024).fill(0.5);
  const out = new Float32Array(1024);
  const c = Float64Array.of(0.999, 0.9, 0.999, 0.1, 0.001, 0.03, 1e-8, 0.01, 1);
  for (let k = 0; k < 8; k++) adamwElements(a, a, a, a, out, out, out, c, true);
}

/** `tf.maximum` of one element: NaN when either is NaN. */
function maximumOf(a: number, b: number): number {
  return Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b);
}
