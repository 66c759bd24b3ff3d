import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';

/** PyTorch's `nn.ModuleList`: children named `0`, `1`, … in the state dict. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new ConfigError(`ModuleList has ${this.items.length} modules, index ${i} is out of range.`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Anything with a tensor-valued forward. */
export interface ForwardModule<A extends unknown[] = unknown[]> extends Module {
  forward(x: tf.Tensor, ...args: A): tf.Tensor;
}

/**
 * OpenRetina's `EnsembleModel`: `forward(x, ...args)` is the mean of the members' outputs (which must have the
 * same shape). Members sit in a `ModuleList` called `members`, so the state dict keys are
 * `members.0.<member key>`, `members.1.<member key>`, …. Training mode and disposal apply to all members.
 */
export class Ensemble<M extends ForwardModule = ForwardModule> extends Module {
  readonly members: ModuleList<M>;

  constructor(members: readonly M[]) {
    super();
    if (members.length === 0) throw new ConfigError('An ensemble needs at least one member.');
    this.members = this.registerModule('members', new ModuleList(members));
  }

  forward(x: tf.Tensor, ...args: Parameters<M['forward']> extends [unknown, ...infer R] ? R : never): tf.Tensor {
    return tf.tidy(() => {
      const outs = [...this.members].map((m) => (m.forward as (x: tf.Tensor, ...a: unknown[]) => tf.Tensor)(x, ...args));
      const shape = outs[0]!.shape;
      for (const [i, o] of outs.entries()) {
        if (o.shape.length !== shape.length || o.shape.some((d, j) => d !== shape[j])) {
          throw new ShapeError(`Ensemble member ${i} returned ${formatShape(o.shape)}, member 0 returned ${formatShape(shape)}.`);
        }
      }
      return outs.length === 1 ? outs[0]! : tf.div(tf.addN(outs), outs.length);
    });
  }
}
