import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, StateDictError, formatShape, type StateTensor } from '@openretina/contracts';

/*
 * The optimizer base: one parameter group over named variables, the step that skips parameters without a gradient,
 * and the state dict in PyTorch's layout. AdamW and SGD add only their update rule.
 */

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

/** Named gradients as a fresh Map (the caller may add or drop entries). */
export function toMap(grads: NamedGrads): Map<string, tf.Tensor> {
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
  /**
   * Per-parameter state kept in host arrays by updates that run on the host (cpu and wasm backends): no TF.js
   * reads and writes of the moments per step. A slot lives in one of the two maps, moving when the other kind of
   * update asks for it.
   */
  private readonly hostSlots = new Map<string, Map<string, Float32Array>>();
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
    const slots = slotsOf(this.slots, name);
    let v = slots.get(key);
    if (!v) {
      const host = this.hostSlots.get(name)?.get(key);
      if (host) {
        v = tf.tidy(() => tf.variable(tf.tensor(host, like.shape, 'float32'), false));
        this.hostSlots.get(name)!.delete(key);
      } else v = tf.variable(init ? init.clone() : tf.zerosLike(like), false);
      slots.set(key, v);
    }
    return v;
  }

  /** A slot as a host array of `size` values (zeros when new), updated in place by the caller. */
  protected hostSlot(name: string, key: string, size: number): Float32Array {
    const slots = slotsOf(this.hostSlots, name);
    let a = slots.get(key);
    if (!a) {
      const v = this.slots.get(name)?.get(key);
      if (v) {
        a = Float32Array.from(v.dataSync());
        v.dispose();
        this.slots.get(name)!.delete(key);
      } else a = new Float32Array(size);
      slots.set(key, a);
    }
    return a;
  }

  protected hasSlot(name: string, key: string): boolean {
    return (this.slots.get(name)?.has(key) || this.hostSlots.get(name)?.has(key)) ?? false;
  }

  /** PyTorch-layout state (see {@link OptimizerStateDict}); tensors are copied out. */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    this.names.forEach((name, i) => {
      const slots = this.slots.get(name);
      const host = this.hostSlots.get(name);
      const step = this.steps.get(name);
      if (!slots && !host && step === undefined) return;
      const entry: ParamState = {};
      if (step !== undefined) entry.step = step;
      for (const [k, v] of slots ?? []) entry[k] = stateTensor(v);
      const shape = [...this.params.get(name)!.shape];
      for (const [k, a] of host ?? []) entry[k] = { shape, dtype: 'float32', data: Float32Array.from(a) };
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
    this.hostSlots.clear();
    this.steps.clear();
  }

  /** Frees the state tensors (not the parameters). */
  dispose(): void {
    this.disposeState();
  }
}

/** A parameter's slots in `all` (an empty map, added, when it has none yet). */
function slotsOf<V>(all: Map<string, Map<string, V>>, name: string): Map<string, V> {
  let slots = all.get(name);
  if (!slots) {
    slots = new Map();
    all.set(name, slots);
  }
  return slots;
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
