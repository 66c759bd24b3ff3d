import * as tf from '@tensorflow/tfjs-core';
import { StateDictError } from '@openretina/contracts';

/** The position of an {@link Rng} in its stream (JSON-safe), as `getState` gives it and `setState` takes it. */
export interface RngState {
  state: number;
  /** The second normal of the last Box–Muller pair, not yet drawn. */
  spare: number | null;
}

/**
 * A small seeded PRNG (mulberry32) with normal sampling (Box–Muller). Every random initialisation in
 * @openretina takes a seed, so the same seed always gives the same model.
 */
export class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed = 0) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** Where the stream stands (to continue it later, e.g. in a resumed training run). */
  getState(): RngState {
    return { state: this.state, spare: this.spare ?? null };
  }

  /** Continues the stream from a state given by {@link Rng.getState}. */
  setState(s: RngState): void {
    if (!Number.isInteger(s?.state) || s.state < 0 || s.state > 0xffffffff || !(s.spare === null || Number.isFinite(s.spare))) {
      throw new StateDictError(
        `Not a random generator state: ${JSON.stringify(s)} (expected { state: a 32-bit unsigned integer, spare: a number or null }).`,
      );
    }
    this.state = s.state;
    this.spare = s.spare ?? undefined;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A tensor of N(mean, std²) samples. */
  randn(shape: readonly number[], std = 1, mean = 0): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = mean + std * this.normal();
    return tf.tensor(data, [...shape]);
  }

  /** A tensor of U(low, high) samples. */
  rand(shape: readonly number[], low = 0, high = 1): tf.Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = low + (high - low) * this.uniform();
    return tf.tensor(data, [...shape]);
  }

  /** A derived generator, so sub-modules get independent streams from one seed. */
  fork(): Rng {
    return new Rng(Math.floor(this.uniform() * 4294967296));
  }
}

/** Accepts a seed or a generator, as module options do. */
export function toRng(seed: number | Rng | undefined): Rng {
  return seed instanceof Rng ? seed : new Rng(seed ?? 0);
}

/** Xavier (Glorot) normal initialisation for a PyTorch-layout conv/linear weight `[out, in, ...kernel]`. */
export function xavierNormal(rng: Rng, shape: readonly number[], gain = 1): tf.Tensor {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  const fanIn = (shape[1] ?? 1) * receptive;
  const fanOut = (shape[0] ?? 1) * receptive;
  return rng.randn(shape, gain * Math.sqrt(2 / (fanIn + fanOut)));
}
