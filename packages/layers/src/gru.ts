import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';
import { torchAbs } from './abs.js';
import { toRng, type Rng } from './random.js';
import { ConvParams, conv2dTorch } from './torch-layers.js';

/** Options of OpenRetina's `ConvGRUCell` / `GRU_Module`. */
export interface ConvGRUOptions {
  inputChannels: number;
  recChannels: number;
  /** Kernel size of the three input convs. */
  inputKern: number;
  /** Kernel size of the three hidden-state convs (odd, so the state keeps its size). */
  recKern: number;
  groups?: number;
  /** Weight of `biasL1()` in `regularizer()` (default 0). */
  gammaRec?: number;
  /** Pad the input convs by `inputKern // 2` (default true); otherwise the state is `inputKern − 1` smaller. */
  padInput?: boolean;
  seed?: number | Rng;
}

const GATES = [
  'reset_gate_input',
  'reset_gate_hidden',
  'update_gate_input',
  'update_gate_hidden',
  'out_gate_input',
  'out_gate_hidden',
] as const;
type Gate = (typeof GATES)[number];

/**
 * OpenRetina's `ConvGRUCell` (Sinz 2018), channels-last. Six `Conv2d`s with PyTorch-layout parameters,
 * xavier-normal weights and zero biases:
 * ```
 * u = σ(W_ux * x + W_uh * h),  r = σ(W_rx * x + W_rh * h)
 * h̃ = tanh(W_ox * x + W_oh * (h ⊙ r)),  h' = h ⊙ (1 − u) + h̃ ⊙ u
 * ```
 * State dict (in this order): `reset_gate_input.{weight,bias}`, `reset_gate_hidden.*`, `update_gate_input.*`,
 * `update_gate_hidden.*`, `out_gate_input.*`, `out_gate_hidden.*`.
 */
export class ConvGRUCell extends Module {
  readonly inputChannels: number;
  readonly recChannels: number;
  readonly inputKern: number;
  readonly recKern: number;
  readonly groups: number;
  readonly gammaRec: number;
  readonly padInput: boolean;
  private readonly convs = new Map<Gate, ConvParams>();

  constructor(options: ConvGRUOptions) {
    super();
    const rng = toRng(options.seed);
    this.inputChannels = options.inputChannels;
    this.recChannels = options.recChannels;
    this.inputKern = options.inputKern;
    this.recKern = options.recKern;
    this.groups = options.groups ?? 1;
    this.gammaRec = options.gammaRec ?? 0;
    this.padInput = options.padInput ?? true;
    if (this.recKern % 2 !== 1)
      throw new ConfigError(`ConvGRUCell needs an odd rec_kern (the hidden state keeps its size), got ${this.recKern}.`);
    if (this.padInput && this.inputKern % 2 !== 1) {
      throw new ConfigError(`ConvGRUCell with pad_input needs an odd input_kern, got ${this.inputKern}.`);
    }
    for (const gate of GATES) {
      const hidden = gate.endsWith('hidden');
      const inCh = hidden ? this.recChannels : this.inputChannels;
      const k = hidden ? this.recKern : this.inputKern;
      this.convs.set(
        gate,
        this.registerModule(gate, new ConvParams(inCh, this.recChannels, [k, k], { groups: this.groups, init: 'xavier', rng })),
      );
    }
  }

  gate(name: Gate): ConvParams {
    return this.convs.get(name)!;
  }

  /** Spatial size lost by the input convs (0 with `padInput`). */
  get shrinkage(): number {
    return this.padInput ? 0 : this.inputKern - 1;
  }

  /** The zero initial state `[B, H − shrink, W − shrink, rec]` for an input frame `[B, H, W, C]`. */
  initState(x: tf.Tensor4D): tf.Tensor4D {
    const s = this.shrinkage;
    return tf.zeros([x.shape[0], x.shape[1] - s, x.shape[2] - s, this.recChannels]);
  }

  private conv(name: Gate, x: tf.Tensor4D): tf.Tensor4D {
    const c = this.gate(name);
    const hidden = name.endsWith('hidden');
    const p = hidden ? Math.floor(this.recKern / 2) : this.padInput ? Math.floor(this.inputKern / 2) : 0;
    return conv2dTorch(x, c.weight, c.bias, [p, p], [p, p], this.groups);
  }

  /** The three input-conv terms for `x [N, H, W, C]` (independent of the state, so they can be batched over time). */
  inputTerms(x: tf.Tensor4D): { update: tf.Tensor4D; reset: tf.Tensor4D; out: tf.Tensor4D } {
    if (x.rank !== 4 || x.shape[3] !== this.inputChannels) {
      throw new ShapeError(`ConvGRUCell expects frames [batch, height, width, ${this.inputChannels}], got ${formatShape(x.shape)}.`);
    }
    return {
      update: this.conv('update_gate_input', x),
      reset: this.conv('reset_gate_input', x),
      out: this.conv('out_gate_input', x),
    };
  }

  /** One step from precomputed input terms. */
  step(terms: { update: tf.Tensor4D; reset: tf.Tensor4D; out: tf.Tensor4D }, prev: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const u = tf.sigmoid(tf.add(terms.update, this.conv('update_gate_hidden', prev)));
      const r = tf.sigmoid(tf.add(terms.reset, this.conv('reset_gate_hidden', prev)));
      const hTilde = tf.tanh(tf.add(terms.out, this.conv('out_gate_hidden', tf.mul(prev, r) as tf.Tensor4D)));
      return tf.add(tf.mul(prev, tf.sub(1, u)), tf.mul(hTilde, u)) as tf.Tensor4D;
    });
  }

  /** `x [B, H, W, C]`, previous state `[B, H', W', rec]` (zeros when omitted) → new state. */
  forward(x: tf.Tensor4D, prevState?: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const terms = this.inputTerms(x);
      const prev = prevState ?? this.initState(x);
      if (prev.shape.some((d, i) => d !== terms.update.shape[i])) {
        throw new ShapeError(`ConvGRUCell state must be ${formatShape(terms.update.shape)}, got ${formatShape(prev.shape)}.`);
      }
      return this.step(terms, prev);
    });
  }

  /**
   * `mean|reset_gate_hidden.bias|/3 + mean|update_gate_hidden.weight|/3 + mean|out_gate_hidden.bias|/3`.
   * Quirk reproduced from OpenRetina: the middle term uses the update gate's hidden *weight*, not its bias.
   */
  biasL1(): tf.Scalar {
    return tf.tidy(() => {
      const m = (t: tf.Tensor): tf.Scalar => tf.div(tf.mean(torchAbs(t)), 3);
      return tf.addN([
        m(this.gate('reset_gate_hidden').bias!),
        m(this.gate('update_gate_hidden').weight),
        m(this.gate('out_gate_hidden').bias!),
      ]) as tf.Scalar;
    });
  }

  /** `gamma_rec · biasL1()`. */
  regularizer(): tf.Scalar {
    return tf.tidy(() => tf.mul(this.biasL1(), this.gammaRec) as tf.Scalar);
  }
}

/**
 * OpenRetina's `GRU_Module`: runs a `ConvGRUCell` (child `gru`) over the frames of a channels-last video from a zero
 * state and returns every state: `[B, T, H, W, C]` → `[B, T, H', W', rec]` (or unbatched `[T, H, W, C]` →
 * `[T, H', W', rec]`). State dict: `gru.<cell keys>`.
 */
export class GRUModule extends Module {
  readonly gru: ConvGRUCell;

  constructor(options: ConvGRUOptions) {
    super();
    this.gru = this.registerModule('gru', new ConvGRUCell(options));
  }

  forward(x: tf.Tensor, _options: { session?: string } = {}): tf.Tensor {
    if (x.rank !== 4 && x.rank !== 5) {
      throw new ShapeError(
        `GRUModule expects [batch, time, height, width, channels] or [time, height, width, channels], got ${formatShape(x.shape)}.`,
      );
    }
    return tf.tidy(() => {
      const x5 = (x.rank === 4 ? tf.expandDims(x, 0) : x) as tf.Tensor5D;
      const [B, T, H, W, C] = x5.shape;
      if (C !== this.gru.inputChannels) {
        throw new ShapeError(`GRUModule expects ${this.gru.inputChannels} channels last, got ${formatShape(x.shape)}.`);
      }
      // The input convs do not depend on the state: run them once on all B·T frames.
      const all = this.gru.inputTerms(tf.reshape(x5, [B * T, H, W, C]) as tf.Tensor4D);
      const [, H2, W2, R] = all.update.shape;
      const perFrame = (t: tf.Tensor4D): tf.Tensor4D[] =>
        tf.unstack(tf.reshape(t, [B, T, H2 * W2 * R]), 1).map((f) => tf.reshape(f, [B, H2, W2, R]) as tf.Tensor4D);
      const [u, r, o] = [perFrame(all.update), perFrame(all.reset), perFrame(all.out)];
      let h: tf.Tensor4D = tf.zeros([B, H2, W2, R]);
      const states: tf.Tensor4D[] = [];
      for (let t = 0; t < T; t++) {
        h = this.gru.step({ update: u[t]!, reset: r[t]!, out: o[t]! }, h);
        states.push(h);
      }
      const out = tf.stack(states, 1);
      return x.rank === 4 ? tf.squeeze(out, [0]) : out;
    });
  }

  regularizer(): tf.Scalar {
    return this.gru.regularizer();
  }
}
