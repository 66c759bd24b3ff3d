import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';
import { Optimizer } from './optimizer.js';

/*
 * `torch.optim.SGD`: momentum, dampening, Nesterov and L2 weight decay as PyTorch applies them.
 */

/** Options of {@link SGD}; the defaults are PyTorch's. */
export interface SGDOptions {
  lr: number;
  /** Default 0. */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** Default 0 (L2, added to the gradient). */
  weightDecay?: number;
  /** Default false. */
  nesterov?: boolean;
  /** Default false. */
  maximize?: boolean;
}

/** `torch.optim.SGD` (momentum, dampening, Nesterov, L2 weight decay). State key: `momentum_buffer`. */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;

  constructor(params: ReadonlyMap<string, tf.Variable>, options: SGDOptions) {
    super(params, options.lr);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.maximize = options.maximize ?? false;
    if (!(this.momentum >= 0)) throw new ConfigError(`Invalid momentum: ${this.momentum}.`);
    if (!(this.weightDecay >= 0)) throw new ConfigError(`Invalid weight_decay: ${this.weightDecay}.`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ConfigError('Nesterov momentum requires a momentum > 0 and zero dampening.');
    }
  }

  protected groupOptions(): Record<string, unknown> {
    return {
      momentum: this.momentum,
      dampening: this.dampening,
      weight_decay: this.weightDecay,
      nesterov: this.nesterov,
      maximize: this.maximize,
      foreach: null,
    };
  }

  protected setGroupOptions(g: Record<string, unknown>): void {
    if (typeof g.momentum === 'number') this.momentum = g.momentum;
    if (typeof g.dampening === 'number') this.dampening = g.dampening;
    if (typeof g.weight_decay === 'number') this.weightDecay = g.weight_decay;
    if (typeof g.nesterov === 'boolean') this.nesterov = g.nesterov;
    if (typeof g.maximize === 'boolean') this.maximize = g.maximize;
  }

  protected update(name: string, param: tf.Variable, gradIn: tf.Tensor): void {
    let d: tf.Tensor = this.maximize ? tf.neg(gradIn) : gradIn;
    if (this.weightDecay !== 0) d = tf.add(d, tf.mul(param, this.weightDecay));
    if (this.momentum !== 0) {
      let buf: tf.Tensor;
      if (!this.hasSlot(name, 'momentum_buffer')) {
        buf = this.slot(name, 'momentum_buffer', param, d);
      } else {
        const slot = this.slot(name, 'momentum_buffer', param);
        buf = tf.add(tf.mul(slot, this.momentum), tf.mul(d, 1 - this.dampening));
        slot.assign(buf);
      }
      d = this.nesterov ? tf.add(d, tf.mul(buf, this.momentum)) : buf;
    }
    param.assign(tf.sub(param, tf.mul(d, this.lr)));
  }
}
