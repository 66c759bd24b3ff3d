import * as tf from '@tensorflow/tfjs-core';
import { StimulusSGD, type StimulusOptimizer } from './optimizers.js';
import {
  ChangeNormJointlyClipRangeSeparately,
  RangeRegularizationLoss,
  boundVectors,
  checkChangeNormShape,
  checkRangeRegularizationShape,
  type StimulusPostprocessor,
  type StimulusRegularizationLoss,
} from './regularizers.js';

/**
 * How a backend's `Sum` adds up a row: the wasm kernel accumulates in float32 from the first element on, the cpu
 * kernel in a float64 `number`. The host step adds in the same order, so that its norms (and with them the sign of
 * `‖x‖ − maxNorm` in the range penalty, a switch that flips on one rounding) are the generic path's.
 */
type SumOrder = 'float32' | 'float64';

function sumSquares(x: Float32Array, begin: number, end: number, order: SumOrder): number {
  let s = 0;
  if (order === 'float32') for (let i = begin; i < end; i++) s = Math.fround(s + Math.fround(x[i]! * x[i]!));
  else for (let i = begin; i < end; i++) s += Math.fround(x[i]! * x[i]!);
  return Math.fround(s);
}

function sumOf(terms: (i: number) => number, n: number, order: SumOrder): number {
  let s = 0;
  if (order === 'float32') for (let i = 0; i < n; i++) s = Math.fround(s + terms(i));
  else for (let i = 0; i < n; i++) s += terms(i);
  return Math.fround(s);
}

/**
 * One MEI step after the model's gradient, on the host's copy of the stimulus: the gradient and value of every
 * {@link RangeRegularizationLoss}, a plain {@link StimulusSGD} step and every {@link ChangeNormJointlyClipRangeSeparately}
 * in one pass over typed arrays. The stimulus is ~30k numbers, so the same work as TF.js ops (about 20 kernels, each a
 * wasm call and an allocation) costs a few milliseconds there and a fraction of one here. Each element-wise value is
 * rounded to float32 after every operation, as the TF.js kernels store it, so the result is the generic path's up to
 * the order of the sums (the same order as the backend's kernel where that is known).
 */
export class HostStimulusStep {
  private readonly order: SumOrder;

  private constructor(
    private readonly lr: number,
    private readonly regularizers: readonly RangeRegularizationLoss[],
    private readonly postprocessors: readonly ChangeNormJointlyClipRangeSeparately[],
    private readonly shape: readonly number[],
  ) {
    this.order = tf.getBackend() === 'wasm' ? 'float32' : 'float64';
    // the generic path's shape errors, before the first step
    for (const r of regularizers) checkRangeRegularizationShape(r, shape);
    for (const p of postprocessors) checkChangeNormShape(p, shape);
  }

  /**
   * The host step for these settings, or null where the generic TF.js path is needed: another optimiser (or SGD
   * with momentum or weight decay, whose state lives in TF.js), another regulariser or post-processor.
   */
  static for(
    optimizer: StimulusOptimizer,
    regularizers: readonly StimulusRegularizationLoss[],
    postprocessors: readonly StimulusPostprocessor[],
    shape: readonly number[],
  ): HostStimulusStep | null {
    if (!(optimizer instanceof StimulusSGD) || optimizer.momentum !== 0 || optimizer.weightDecay !== 0) return null;
    if (!regularizers.every((r) => r instanceof RangeRegularizationLoss)) return null;
    if (!postprocessors.every((p) => p instanceof ChangeNormJointlyClipRangeSeparately)) return null;
    return new HostStimulusStep(
      optimizer.lr,
      regularizers as readonly RangeRegularizationLoss[],
      postprocessors as readonly ChangeNormJointlyClipRangeSeparately[],
      shape,
    );
  }

  /**
   * `x` (the stimulus) after one step on `loss = −objective + Σ reg` with `objectiveGrad = ∂objective/∂x`, and
   * `Σ reg(x)` before the step. Neither input is changed.
   */
  step(x: Float32Array, objectiveGrad: Float32Array): { next: Float32Array; regularization: number } {
    const grad = new Float32Array(x.length); // ∂Σreg/∂x
    let regularization = 0;
    for (const r of this.regularizers) regularization = Math.fround(regularization + this.rangePenalty(r, x, grad));
    const next = new Float32Array(x.length);
    const minusLr = -this.lr;
    for (let i = 0; i < x.length; i++) {
      const d = Math.fround(grad[i]! - objectiveGrad[i]!);
      next[i] = Math.fround(x[i]! + Math.fround(d * minusLr));
    }
    for (const p of this.postprocessors) this.changeNormClip(p, next);
    return { next, regularization };
  }

  /** {@link RangeRegularizationLoss}: its value, its gradient added to `grad`. */
  private rangePenalty(r: RangeRegularizationLoss, x: Float32Array, grad: Float32Array): number {
    const channels = this.shape[4]!;
    const { lo, hi } = boundVectors(r.minMax, channels);
    const f = r.factor;
    const terms: number[] = [];
    // d/dx relu(lo − x) = −[lo − x > 0], d/dx relu(x − hi) = [x − hi > 0] (TF.js's relu gradient is 0 at 0)
    if (lo.some((v) => v !== Number.NEGATIVE_INFINITY)) {
      terms.push(sumOf((i) => Math.max(Math.fround(lo[i % channels]! - x[i]!), 0), x.length, this.order));
      for (let i = 0; i < x.length; i++) if (Math.fround(lo[i % channels]! - x[i]!) > 0) grad[i] = Math.fround(grad[i]! - f);
    }
    if (hi.some((v) => v !== Number.POSITIVE_INFINITY)) {
      terms.push(sumOf((i) => Math.max(Math.fround(x[i]! - hi[i % channels]!), 0), x.length, this.order));
      for (let i = 0; i < x.length; i++) if (Math.fround(x[i]! - hi[i % channels]!) > 0) grad[i] = Math.fround(grad[i]! + f);
    }
    if (r.maxNorm !== null) {
      const norm = Math.fround(Math.sqrt(sumSquares(x, 0, x.length, this.order)));
      const over = Math.fround(norm - r.maxNorm);
      terms.push(Math.max(over, 0));
      if (over > 0) {
        // TF.js's chain: sqrt' = dy / (2·sqrt(s)), then (x²)' = 2x·dy
        const ds = Math.fround(f / Math.fround(2 * norm));
        for (let i = 0; i < x.length; i++) grad[i] = Math.fround(grad[i]! + Math.fround(Math.fround(2 * x[i]!) * ds));
      }
    }
    const total = terms.length === 0 ? 0 : terms.reduce((a, b) => Math.fround(a + b));
    return Math.fround(total * f);
  }

  /** {@link ChangeNormJointlyClipRangeSeparately} in place. */
  private changeNormClip(p: ChangeNormJointlyClipRangeSeparately, y: Float32Array): void {
    const [b, , , , channels] = this.shape as [number, number, number, number, number];
    const per = y.length / b;
    if (p.norm !== null) {
      for (let k = 0; k < b; k++) {
        const scale = Math.fround(p.norm / Math.fround(Math.sqrt(sumSquares(y, k * per, (k + 1) * per, this.order))));
        for (let i = k * per; i < (k + 1) * per; i++) y[i] = Math.fround(y[i]! * scale);
      }
    }
    const { lo, hi } = boundVectors(p.minMax, channels);
    for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i]!, lo[i % channels]!), hi[i % channels]!);
  }
}
