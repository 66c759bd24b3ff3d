import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, StateDictError, formatShape, type StateTensor } from '@openretina/contracts';

/** Gradients by parameter name (the names of `model.trainableParameters()`). */
export type NamedGrads = ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>;

/** A per-parameter state entry: tensors in the parameter's shape, or plain numbers (e.g. `step`). */
export type ParamState = Record<string, StateTensor | number>;

/**
 * An optimizer's state in PyTorch's `Optimizer.state_dict()` layout: `state` keyed by the parameter's index in
 * the (single) parameter group, `param_groups[0]` with the hyper-parameters and `params: [0, 1, …]`. `param_names`
 * (our addition) lists the parameter names in index order so a state can be checked against a model.
 */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: [Record<string, unknown> & { params: number[]; lr: number }];
  param_names: string[];
}

function toMap(grads: NamedGrads): Map<string, tf.Tensor> {
  return grads instanceof Map ? new Map(grads) : new Map(Object.entries(grads as Record<string, tf.Tensor>));
}

function stateTensor(v: tf.Tensor): StateTensor {
  return { shape: [...v.shape], dtype: 'float32', data: Float32Array.from(v.dataSync()) };
}

/**
 * The base of our optimizers: one parameter group over named `tf.Variable`s, PyTorch's update rules, stepping
 * only the parameters that have a gradient (PyTorch skips parameters whose `.grad` is `None`: no update, no weight
 * decay, no state change).
 */
export abstract class Optimizer {
  /** Parameters by name, in PyTorch index order. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /** The current learning rate (schedulers change it). */
  lr: number;
  /** The learning rate the optimizer was created with (PyTorch's `initial_lr`, set by schedulers). */
  initialLr: number;
  protected readonly names: string[];
  /** Per-parameter state by name. */
  protected readonly slots = new Map<string, Map<string, tf.Variable>>();
  protected readonly steps = new Map<string, number>();

  constructor(params: ReadonlyMap<string, tf.Variable>, lr: number) {
    if (!(lr >= 0)) throw new ConfigError(`Invalid learning rate: ${lr} (must be ≥ 0).`);
    this.params = new Map(params);
    this.names = [...params.keys()];
    this.lr = lr;
    this.initialLr = lr;
  }

  /** Hyper-parameters in PyTorch's param-group keys (without `lr` and `params`). */
  protected abstract groupOptions(): Record<string, unknown>;
  protected abstract setGroupOptions(group: Record<string, unknown>): void;
  /** Updates one parameter in place with its gradient (called inside `tf.tidy`). */
  protected abstract update(name: string, param: tf.Variable, grad: tf.Tensor): void;

  /**
   * One optimisation step. `grads` maps parameter names to gradients; parameters without an entry are left
   * untouched. Gradients of names the optimizer does not know raise an error. Does not dispose `grads`.
   */
  step(grads: NamedGrads): void {
    const map = toMap(grads);
    const unknown = [...map.keys()].filter((k) => !this.params.has(k));
    if (unknown.length) {
      throw new ConfigError(`Gradients for parameters the optimizer does not hold: ${unknown.join(', ')}.`);
    }
    for (const name of this.names) {
      const g = map.get(name);
      if (!g) continue;
      const p = this.params.get(name)!;
      if (!sameShape(g.shape, p.shape)) {
        throw new ConfigError(`Gradient of "${name}" has shape ${formatShape(g.shape)}, the parameter ${formatShape(p.shape)}.`);
      }
      tf.tidy(() => this.update(name, p, g));
    }
  }

  protected slot(name: string, key: string, like: tf.Tensor, init?: tf.Tensor): tf.Variable {
    let slots = this.slots.get(name);
    if (!slots) {
      slots = new Map();
      this.slots.set(name, slots);
    }
    let v = slots.get(key);
    if (!v) {
      v = tf.variable(init ? init.clone() : tf.zerosLike(like), false);
      slots.set(key, v);
    }
    return v;
  }

  protected hasSlot(name: string, key: string): boolean {
    return this.slots.get(name)?.has(key) ?? false;
  }

  /** PyTorch-layout state (see {@link OptimizerStateDict}); tensors are copied out. */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    this.names.forEach((name, i) => {
      const slots = this.slots.get(name);
      const step = this.steps.get(name);
      if (!slots && step === undefined) return;
      const entry: ParamState = {};
      if (step !== undefined) entry.step = step;
      for (const [k, v] of slots ?? []) entry[k] = stateTensor(v);
      state[i] = entry;
    });
    return {
      state,
      param_groups: [{ lr: this.lr, initial_lr: this.initialLr, ...this.groupOptions(), params: this.names.map((_, i) => i) }],
      param_names: [...this.names],
    };
  }

  /** Restores a state from {@link stateDict} (same parameters in the same order). */
  loadStateDict(sd: OptimizerStateDict): void {
    const group = sd.param_groups[0];
    if (!group || sd.param_groups.length !== 1) throw new StateDictError(`Expected one parameter group, got ${sd.param_groups.length}.`);
    if (group.params.length !== this.names.length) {
      throw new StateDictError(`The optimizer state holds ${group.params.length} parameters, the optimizer ${this.names.length}.`);
    }
    if (sd.param_names && sd.param_names.join('\0') !== this.names.join('\0')) {
      throw new StateDictError(
        `The optimizer state is for parameters [${sd.param_names.join(', ')}], the optimizer holds [${this.names.join(', ')}].`,
      );
    }
    for (const [idx, entry] of Object.entries(sd.state)) {
      const name = this.names[Number(idx)];
      const p = name === undefined ? undefined : this.params.get(name);
      if (!p || name === undefined) throw new StateDictError(`Optimizer state for unknown parameter index ${idx}.`);
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === 'number') continue;
        if (!sameShape(v.shape, p.shape)) {
          throw new StateDictError(
            `Optimizer state ${k} of "${name}" has shape ${formatShape(v.shape)}, expected ${formatShape(p.shape)}.`,
          );
        }
      }
    }
    this.disposeState();
    for (const [idx, entry] of Object.entries(sd.state)) {
      const name = this.names[Number(idx)]!;
      const slots = new Map<string, tf.Variable>();
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === 'number') {
          if (k === 'step') this.steps.set(name, v);
          continue;
        }
        const t = tf.tensor(Float32Array.from(v.data as ArrayLike<number>), [...v.shape], 'float32');
        slots.set(k, tf.variable(t, false));
        t.dispose();
      }
      if (slots.size) this.slots.set(name, slots);
    }
    this.lr = group.lr;
    this.initialLr = typeof group.initial_lr === 'number' ? group.initial_lr : group.lr;
    this.setGroupOptions(group);
  }

  /**
   * Forgets every parameter's state (moments, step counts), keeping the hyper-parameters and the current learning
   * rate: the next step is the first of a new optimizer on the same parameters.
   */
  resetState(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const slots of this.slots.values()) for (const v of slots.values()) v.dispose();
    this.slots.clear();
    this.steps.clear();
  }

  /** Frees the state tensors (not the parameters). */
  dispose(): void {
    this.disposeState();
  }
}

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

/** What {@link clipGradNorm} returns: the clipped gradients (new tensors, the caller owns them) and the norm before clipping. */
export interface ClipResult {
  grads: Map<string, tf.Tensor>;
  /** The total norm of all gradients before clipping (PyTorch's return value). */
  totalNorm: number;
  /** The factor the gradients were multiplied by: min(1, maxNorm / (totalNorm + 1e-6)). */
  clipCoef: number;
}

/**
 * `torch.nn.utils.clip_grad_norm_`: total norm = the `normType`-norm of the per-tensor norms; every gradient is
 * multiplied by `min(1, maxNorm / (total + 1e-6))`. Returns new tensors; the input gradients are not disposed.
 */
export function clipGradNorm(grads: NamedGrads, maxNorm: number, normType: number | 'inf' = 2): ClipResult {
  const map = toMap(grads);
  if (map.size === 0) return { grads: new Map(), totalNorm: 0, clipCoef: 1 };
  const tensors = [...map.values()];
  const totalT = tf.tidy(() => {
    if (normType === 'inf' || normType === Infinity) return tf.max(tf.stack(tensors.map((g) => tf.max(tf.abs(g)))));
    const norms = tensors.map((g) => tf.norm(g, normType as number));
    return tf.norm(tf.stack(norms), normType as number);
  });
  const totalNorm = totalT.dataSync()[0]!;
  // PyTorch computes the coefficient in float32 tensors.
  const coefT = tf.tidy(() => tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalT, 1e-6)), 1));
  const clipCoef = coefT.dataSync()[0]!;
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of map) out.set(k, tf.mul(g, coefT));
  tf.dispose([totalT, coefT]);
  return { grads: out, totalNorm, clipCoef };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
