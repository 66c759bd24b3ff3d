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

// The loops over the stimulus are plain functions of typed arrays and numbers: inside the class's methods V8 left
// its optimised code at every call ("insufficient type feedback" after the loop) and boxed each intermediate double
// in the interpreter, ~0.2–0.7 MB of garbage per step (its young generation then grows onto fresh pages for the
// first ~100 steps of a process, each page a fault).

/** The three sums of a range penalty over `x` into `out`: below the range, above it, the squares (wasm: float32 adds). */
function penaltySums(x: Float32Array, lo: Float32Array, hi: Float32Array, channels: number, float32: boolean, out: Float64Array): void {
  // each sum in element order (a relu's zeros add nothing, so they are skipped)
  let low = 0;
  let high = 0;
  let squares = 0;
  if (float32) {
    for (let i = 0; i < x.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const xi = x[i + c]!;
        const below = Math.fround(lo[c]! - xi);
        if (below > 0) low = Math.fround(low + below);
        const above = Math.fround(xi - hi[c]!);
        if (above > 0) high = Math.fround(high + above);
        squares = Math.fround(squares + Math.fround(xi * xi));
      }
    }
  } else {
    for (let i = 0; i < x.length; i += channels) {
      for (let c = 0; c < channels; c++) {
        const xi = x[i + c]!;
        const below = Math.fround(lo[c]! - xi);
        if (below > 0) low += below;
        const above = Math.fround(xi - hi[c]!);
        if (above > 0) high += above;
        squares += Math.fround(xi * xi);
      }
    }
  }
  out[0] = low;
  out[1] = high;
  out[2] = squares;
}

// V8 (Node 24's) compiles these two loops on stack replacement during their first call, before the code after the loop
// has run once: that code then has no type feedback, and the optimised code bailed out at the end of every later call
// (the MEI iteration's host sums took ~4× their time on Node 24). Calls on empty input when the module loads run
// the code after the loops first, a few times (V8 keeps no feedback for a function's first calls).
{
  const empty = new Float32Array(0);
  const sums = new Float64Array(3);
  for (let k = 0; k < 16; k++) {
    for (const order of ['float32', 'float64'] as const) {
      sumSquares(empty, 0, 0, order);
      penaltySums(empty, empty, empty, 1, order === 'float32', sums);
    }
  }
}

/** `next = x − lr·(∂reg/∂x − objectiveGrad)` for one range penalty (`f` its factor, `normScale` its norm term's). */
function rangeSgdStep(
  x: Float32Array,
  objectiveGrad: Float32Array,
  next: Float32Array,
  lo: Float32Array,
  hi: Float32Array,
  f: number,
  normScale: number,
  minusLr: number,
  channels: number,
): void {
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const xi = x[i + c]!;
      // ∂reg/∂x, its terms added as TF.js's backward adds them; ±f or 0 as a product, always a double (a 0 literal
      // here made V8 box every other value of g on the heap)
      let g = f * (Math.fround(lo[c]! - xi) > 0 ? -1 : Math.fround(xi - hi[c]!) > 0 ? 1 : 0);
      if (normScale !== 0) g = Math.fround(g + Math.fround(Math.fround(2 * xi) * normScale));
      next[i + c] = Math.fround(xi + Math.fround(Math.fround(g - objectiveGrad[i + c]!) * minusLr));
    }
  }
}

/** `y[begin, end)` scaled by `scale` (exact when it is 1), then clamped to `[lo, hi]` per channel, in place. */
function scaleClip(y: Float32Array, begin: number, end: number, scale: number, lo: Float32Array, hi: Float32Array, channels: number): void {
  for (let i = begin; i < end; i += channels) {
    for (let c = 0; c < channels; c++) {
      const v = Math.fround(y[i + c]! * scale);
      y[i + c] = Math.min(Math.max(v, lo[c]!), hi[c]!);
    }
  }
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
  private readonly sums = new Float64Array(3);

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
    // exactly these classes: a subclass may compute something else
    const is = (o: object, c: { prototype: object }) => Object.getPrototypeOf(o) === c.prototype;
    if (!is(optimizer, StimulusSGD)) return null;
    const sgd = optimizer as StimulusSGD;
    if (sgd.momentum !== 0 || sgd.weightDecay !== 0) return null;
    if (!regularizers.every((r) => is(r, RangeRegularizationLoss))) return null;
    if (!postprocessors.every((p) => is(p, ChangeNormJointlyClipRangeSeparately))) return null;
    return new HostStimulusStep(
      sgd.lr,
      regularizers as readonly RangeRegularizationLoss[],
      postprocessors as readonly ChangeNormJointlyClipRangeSeparately[],
      shape,
    );
  }

  /**
   * `x` (the stimulus) after one step on `loss = −objective + Σ reg` with `objectiveGrad = ∂objective/∂x`, written
   * into `next` (another array than `x`), and `Σ reg(x)` before the step. Neither input is changed. Three passes: the
   * penalties' sums, the step (with the constraint's norm), the constraint.
   */
  step(
    x: Float32Array,
    objectiveGrad: Float32Array,
    next: Float32Array = new Float32Array(x.length),
  ): { next: Float32Array; regularization: number } {
    const penalties = this.regularizers.map((r) => this.penalty(r, x));
    let regularization = 0;
    for (const p of penalties) regularization = Math.fround(regularization + p.value);
    const channels = this.shape[4]!;
    const minusLr = Math.fround(-this.lr); // TF.js scalars are float32
    const [only] = penalties;
    if (penalties.length <= 1) {
      // the usual case, with the penalty's numbers in locals (a loop over the penalties per element is ~5× slower)
      const lo = only?.lo ?? new Float32Array(channels).fill(Number.NEGATIVE_INFINITY);
      const hi = only?.hi ?? new Float32Array(channels).fill(Number.POSITIVE_INFINITY);
      rangeSgdStep(x, objectiveGrad, next, lo, hi, only?.factor ?? 0, only?.normScale ?? 0, minusLr, channels);
    } else {
      for (let i = 0; i < x.length; i += channels) {
        for (let c = 0; c < channels; c++) {
          const xi = x[i + c]!;
          let g = 0;
          for (const p of penalties) {
            if (Math.fround(p.lo[c]! - xi) > 0) g = Math.fround(g - p.factor);
            if (Math.fround(xi - p.hi[c]!) > 0) g = Math.fround(g + p.factor);
            if (p.normScale !== 0) g = Math.fround(g + Math.fround(Math.fround(2 * xi) * p.normScale));
          }
          next[i + c] = Math.fround(xi + Math.fround(Math.fround(g - objectiveGrad[i + c]!) * minusLr));
        }
      }
    }
    for (const p of this.postprocessors) this.changeNormClip(p, next);
    return { next, regularization };
  }

  /**
   * One {@link RangeRegularizationLoss} at `x`: its value, and what its gradient needs per element (TF.js's relu
   * gradient is 0 at 0, so `d relu(lo − x)/dx = −[lo − x > 0]`; `normScale` is `factor / (2‖x‖)` when the norm term
   * is active, from sqrt' = dy / (2·sqrt(s)) and (x²)' = 2x·dy, else 0).
   */
  private penalty(
    r: RangeRegularizationLoss,
    x: Float32Array,
  ): { value: number; lo: Float32Array; hi: Float32Array; factor: number; normScale: number } {
    const channels = this.shape[4]!;
    const { lo, hi } = boundVectors(r.minMax, channels);
    const hasLo = lo.some((v) => v !== Number.NEGATIVE_INFINITY);
    const hasHi = hi.some((v) => v !== Number.POSITIVE_INFINITY);
    penaltySums(x, lo, hi, channels, this.order === 'float32', this.sums);
    const [low, high, squares] = [this.sums[0]!, this.sums[1]!, this.sums[2]!];
    const factor = Math.fround(r.factor); // TF.js scalars are float32
    const terms: number[] = [];
    if (hasLo) terms.push(Math.fround(low));
    if (hasHi) terms.push(Math.fround(high));
    let normScale = 0;
    if (r.maxNorm !== null) {
      const norm = Math.fround(Math.sqrt(Math.fround(squares)));
      const over = Math.fround(norm - Math.fround(r.maxNorm));
      terms.push(Math.max(over, 0));
      if (over > 0) normScale = Math.fround(factor / Math.fround(2 * norm));
    }
    const total = terms.length === 0 ? 0 : terms.reduce((a, b) => Math.fround(a + b));
    return { value: Math.fround(total * factor), lo, hi, factor, normScale };
  }

  /** {@link ChangeNormJointlyClipRangeSeparately} in place. */
  private changeNormClip(p: ChangeNormJointlyClipRangeSeparately, y: Float32Array): void {
    const [b, , , , channels] = this.shape as [number, number, number, number, number];
    const per = y.length / b;
    const { lo, hi } = boundVectors(p.minMax, channels);
    for (let k = 0; k < b; k++) {
      const scale =
        p.norm === null ? 1 : Math.fround(Math.fround(p.norm) / Math.fround(Math.sqrt(sumSquares(y, k * per, (k + 1) * per, this.order))));
      scaleClip(y, k * per, (k + 1) * per, scale, lo, hi, channels);
    }
  }
}
