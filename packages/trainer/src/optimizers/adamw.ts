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
    const decay = f(1 - this.lr * this.weightDecay);
    const fb1 = f(b1);
    const fb2 = f(b2);
    const c1 = f(1 - b1);
    const c2 = f(1 - b2);
    const bc2Sqrt = f(Math.sqrt(1 - b2 ** step));
    const eps = f(this.eps);
    const stepSize = f(this.lr / (1 - b1 ** step));
    for (let i = 0; i < n; i++) {
      const gi = this.maximize ? -g[i]! : g[i]!;
      const decayed = this.weightDecay !== 0 ? f(p[i]! * decay) : p[i]!;
      const m = f(f(ma[i]! * fb1) + f(gi * c1));
      const v = f(f(va[i]! * fb2) + f(f(gi * gi) * c2));
      mOut[i] = m;
      vOut[i] = v;
      let second = v;
      if (mx && mxOut) {
        second = maximumOf(mx[i]!, v);
        mxOut[i] = second;
      }
      const denom = f(f(f(Math.sqrt(second)) / bc2Sqrt) + eps);
      pOut[i] = f(decayed - f(f(m / denom) * stepSize));
    }
    expAvg.assign(tf.tensor(mOut, param.shape));
    expAvgSq.assign(tf.tensor(vOut, param.shape));
    if (maxSq && mxOut) maxSq.assign(tf.tensor(mxOut, param.shape));
    param.assign(tf.tensor(pOut, param.shape));
  }
}

/** `tf.maximum` of one element: NaN when either is NaN. */
function maximumOf(a: number, b: number): number {
  return Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b);
}
