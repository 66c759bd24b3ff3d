import * as tf from '@tensorflow/tfjs-core';
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
}
