import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';

/** Updates a stimulus variable in place from its gradient (PyTorch's optimiser step semantics). */
export interface StimulusOptimizer {
  step(stimulus: tf.Variable, grad: tf.Tensor): void;
  /** Frees the optimiser's state (momentum buffers, moments). */
  dispose(): void;
}

export interface StimulusSGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** `torch.optim.SGD` on one tensor: optional weight decay, momentum (first step: buffer = gradient), Nesterov. */
export class StimulusSGD implements StimulusOptimizer {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private buffer: tf.Tensor | undefined;

  constructor(options: StimulusSGDOptions) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (!(this.lr >= 0)) throw new ConfigError(`StimulusSGD: lr must be ≥ 0, got ${this.lr}.`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ConfigError('StimulusSGD: Nesterov momentum needs momentum > 0 and dampening 0.');
    }
  }

  step(stimulus: tf.Variable, grad: tf.Tensor): void {
    const next = tf.tidy(() => {
      let d: tf.Tensor = grad;
      if (this.weightDecay !== 0) d = tf.add(d, tf.mul(stimulus, this.weightDecay));
      if (this.momentum !== 0) {
        const buf = this.buffer ? tf.add(tf.mul(this.buffer, this.momentum), tf.mul(d, 1 - this.dampening)) : tf.clone(d);
        this.buffer?.dispose();
        this.buffer = tf.keep(buf);
        d = this.nesterov ? tf.add(d, tf.mul(buf, this.momentum)) : buf;
      }
      return tf.add(stimulus, tf.mul(d, -this.lr));
    });
    stimulus.assign(next);
    next.dispose();
  }

  dispose(): void {
    this.buffer?.dispose();
    this.buffer = undefined;
  }
}

export interface StimulusAdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

/**
 * `torch.optim.Adam` on one tensor (eps added to `sqrt(v̂)`, unlike TF.js's own Adam), with optional L2 weight decay
 * and AMSGrad.
 */
export class StimulusAdam implements StimulusOptimizer {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  private t = 0;
  private m: tf.Tensor | undefined;
  private v: tf.Tensor | undefined;
  private vMax: tf.Tensor | undefined;

  constructor(options: StimulusAdamOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.amsgrad = options.amsgrad ?? false;
  }

  step(stimulus: tf.Variable, grad: tf.Tensor): void {
    this.t += 1;
    const { beta1: b1, beta2: b2 } = this;
    const next = tf.tidy(() => {
      const g = this.weightDecay !== 0 ? tf.add(grad, tf.mul(stimulus, this.weightDecay)) : grad;
      const m0 = this.m ?? tf.zerosLike(g);
      const v0 = this.v ?? tf.zerosLike(g);
      const m = tf.add(m0, tf.mul(tf.sub(g, m0), 1 - b1));
      const v = tf.add(tf.mul(v0, b2), tf.mul(tf.mul(g, g), 1 - b2));
      this.m?.dispose();
      this.v?.dispose();
      this.m = tf.keep(m);
      this.v = tf.keep(v);
      let vUse = v;
      if (this.amsgrad) {
        const vMax = this.vMax ? tf.maximum(this.vMax, v) : tf.clone(v);
        this.vMax?.dispose();
        this.vMax = tf.keep(vMax);
        vUse = vMax;
      }
      const bc1 = 1 - b1 ** this.t;
      const bc2Sqrt = Math.sqrt(1 - b2 ** this.t);
      const denom = tf.add(tf.div(tf.sqrt(vUse), bc2Sqrt), this.eps);
      return tf.add(stimulus, tf.mul(tf.div(m, denom), -this.lr / bc1));
    });
    stimulus.assign(next);
    next.dispose();
  }

  dispose(): void {
    tf.dispose([this.m, this.v, this.vMax].filter((t): t is tf.Tensor => t !== undefined));
    this.m = this.v = this.vMax = undefined;
  }
}
