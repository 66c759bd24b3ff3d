import { ShapeError, formatShape } from '@openretina/contracts';

/**
 * A dense row-major array for evaluation maths (float64 results). Inputs may be any numeric array type.
 * Metrics follow `openretina/eval/metrics.py` and `oracles.py` exactly (numpy semantics: population std with
 * `+eps` on the std for correlations, `ddof=1` variances for the variance ratio).
 */
export interface NDArray {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** A float64 result array. */
export interface Float64NDArray extends NDArray {
  readonly data: Float64Array;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function check(a: NDArray, what: string): void {
  if (a.data.length !== size(a.shape)) {
    throw new ShapeError(`${what}: shape ${formatShape(a.shape)} needs ${size(a.shape)} values, got ${a.data.length}.`);
  }
}

function sameShape(a: NDArray, b: NDArray, what: string): void {
  check(a, what);
  check(b, what);
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${what}: the arrays must have the same shape, got ${formatShape(a.shape)} and ${formatShape(b.shape)}.`);
  }
}

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`axis ${axis} is out of range for an array of rank ${rank}.`);
  return a;
}

/** Splits a shape around `axis`: [outer, length, inner] and the shape without the axis. */
function around(shape: readonly number[], axis: number): { outer: number; len: number; inner: number; rest: number[] } {
  const a = normAxis(axis, shape.length);
  return {
    outer: size(shape.slice(0, a)),
    len: shape[a]!,
    inner: size(shape.slice(a + 1)),
    rest: [...shape.slice(0, a), ...shape.slice(a + 1)],
  };
}

/** Applies `f` to every 1-D fibre along `axis` of equally shaped arrays; returns one value per fibre. */
function reduceFibres(arrays: NDArray[], axis: number, f: (fibres: Float64Array[]) => number): Float64NDArray {
  const { outer, len, inner, rest } = around(arrays[0]!.shape, axis);
  const out = new Float64Array(outer * inner);
  const fibres = arrays.map(() => new Float64Array(len));
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      arrays.forEach((a, k) => {
        const fb = fibres[k]!;
        for (let t = 0; t < len; t++) fb[t] = a.data[base + t * inner]!;
      });
      out[o * inner + i] = f(fibres);
    }
  }
  return { data: out, shape: rest };
}

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

function std0(x: Float64Array, m: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - m) ** 2;
  return Math.sqrt(s / x.length);
}

/** `correlation_numpy`: z-score both along `axis` (population std + eps), then the mean product. */
export function correlation(y1: NDArray, y2: NDArray, axis = -1, eps = 1e-8): Float64NDArray {
  sameShape(y1, y2, 'correlation');
  return reduceFibres([y1, y2], axis, ([a, b]) => {
    const ma = mean(a!);
    const mb = mean(b!);
    const sa = std0(a!, ma) + eps;
    const sb = std0(b!, mb) + eps;
    let s = 0;
    for (let t = 0; t < a!.length; t++) s += ((a![t]! - ma) / sa) * ((b![t]! - mb) / sb);
    return s / a!.length;
  });
}

/** `MSE_numpy`: mean squared difference along `axis`. */
export function mse(y1: NDArray, y2: NDArray, axis = -1): Float64NDArray {
  sameShape(y1, y2, 'mse');
  return reduceFibres([y1, y2], axis, ([a, b]) => {
    let s = 0;
    for (let t = 0; t < a!.length; t++) s += (a![t]! - b![t]!) ** 2;
    return s / a!.length;
  });
}

/** `poisson_loss_numpy`: mean of `ŷ − y·log(ŷ + eps)` along `axis`. */
export function poissonLossNumpy(yTrue: NDArray, yPred: NDArray, eps = 1e-8, axis = -1): Float64NDArray {
  sameShape(yTrue, yPred, 'poissonLossNumpy');
  return reduceFibres([yTrue, yPred], axis, ([y, p]) => {
    let s = 0;
    for (let t = 0; t < y!.length; t++) s += p![t]! - y![t]! * Math.log(p![t]! + eps);
    return s / y!.length;
  });
}

function check3d(a: NDArray, what: string): [number, number, number] {
  check(a, what);
  if (a.shape.length !== 3) throw new ShapeError(`${what}: expected (frames, repeats, neurons), got ${formatShape(a.shape)}.`);
  return a.shape as [number, number, number];
}

/**
 * `explainable_vs_total_var` on `(frames, repeats, neurons)`: total = var over frames and repeats (ddof 1),
 * noise = mean over frames of the variance over repeats (ddof 1), explainable = max(total − noise, eps),
 * ratio = explainable / (total + eps).
 */
export function explainableVsTotalVar(responses: NDArray, eps = 1e-9): { varRatio: Float64Array; explainableVar: Float64Array } {
  const [F, R, N] = check3d(responses, 'explainableVsTotalVar');
  const d = responses.data;
  const varRatio = new Float64Array(N);
  const explainableVar = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let f = 0; f < F; f++) for (let r = 0; r < R; r++) m += d[(f * R + r) * N + n]!;
    m /= F * R;
    let ss = 0;
    for (let f = 0; f < F; f++) for (let r = 0; r < R; r++) ss += (d[(f * R + r) * N + n]! - m) ** 2;
    const total = ss / (F * R - 1);
    let noise = 0;
    for (let f = 0; f < F; f++) {
      let mf = 0;
      for (let r = 0; r < R; r++) mf += d[(f * R + r) * N + n]!;
      mf /= R;
      let sf = 0;
      for (let r = 0; r < R; r++) sf += (d[(f * R + r) * N + n]! - mf) ** 2;
      noise += sf / (R - 1);
    }
    noise /= F;
    const expl = Math.max(total - noise, eps);
    explainableVar[n] = expl;
    varRatio[n] = expl / (total + eps);
  }
  return { varRatio, explainableVar };
}

/**
 * `feve`: fraction of explainable variance explained per neuron. `predictions` is `(frames, repeats, neurons)` or
 * `(frames, neurons)` (repeated over the repeats).
 */
export function feve(targets: NDArray, predictions: NDArray): Float64Array {
  const [F, R, N] = check3d(targets, 'feve targets');
  check(predictions, 'feve predictions');
  const p2 = predictions.shape.length === 2;
  if (p2 ? predictions.shape[0] !== F || predictions.shape[1] !== N : predictions.shape.some((dd, i) => dd !== targets.shape[i])) {
    throw new ShapeError(`feve: targets ${formatShape(targets.shape)} and predictions ${formatShape(predictions.shape)} do not match.`);
  }
  const { varRatio, explainableVar } = explainableVsTotalVar(targets);
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let f = 0; f < F; f++) {
      for (let r = 0; r < R; r++) {
        const p = p2 ? predictions.data[f * N + n]! : predictions.data[(f * R + r) * N + n]!;
        s += (targets.data[(f * R + r) * N + n]! - p) ** 2;
      }
    }
    const m = s / (F * R);
    const total = explainableVar[n]! / varRatio[n]!;
    const noise = total - explainableVar[n]!;
    out[n] = Math.max(1 - Math.max(m - noise, 0) / explainableVar[n]!, 0);
  }
  return out;
}

function cutFrames(a: NDArray, cut: number | null | undefined): { data: ArrayLike<number>; shape: [number, number, number] } {
  const [F, R, N] = a.shape as [number, number, number];
  // numpy `x[cut:]`: None or 0 keeps everything; negative counts from the end.
  let start = cut ?? 0;
  if (start < 0) start = Math.max(F + start, 0);
  start = Math.min(start, F);
  const data = Array.prototype.slice.call(a.data, start * R * N) as number[];
  return { data: Float64Array.from(data), shape: [F - start, R, N] };
}

/**
 * `oracle_corr_jackknife` on `(frames, repeats, neurons)`: the leave-one-out mean over the other repeats
 * (NaN → 0), correlated with the responses over the flattened `(frames·repeats)` axis. Returns the score per
 * neuron and the oracle.
 */
export function oracleCorrJackknife(responses: NDArray, cutFirstNFrames?: number | null): { score: Float64Array; oracle: Float64NDArray } {
  check3d(responses, 'oracleCorrJackknife');
  const r = cutFrames(responses, cutFirstNFrames);
  const [F, R, N] = r.shape;
  const oracle = new Float64Array(F * R * N);
  for (let f = 0; f < F; f++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < R; k++) s += r.data[(f * R + k) * N + n]!;
      for (let k = 0; k < R; k++) {
        const v = (s - r.data[(f * R + k) * N + n]!) / (R - 1);
        oracle[(f * R + k) * N + n] = Number.isNaN(v) ? 0 : v === Infinity ? Number.MAX_VALUE : v === -Infinity ? -Number.MAX_VALUE : v;
      }
    }
  }
  const score = correlation({ data: r.data, shape: [F * R, N] }, { data: oracle, shape: [F * R, N] }, 0).data;
  return { score, oracle: { data: oracle, shape: [F, R, N] } };
}

/**
 * `global_mean_oracle`: the correlation of each neuron with the mean over neurons at each time point, over the
 * flattened `(frames·repeats)` axis. `responses` is `(frames, repeats, neurons)` or `(frames, neurons)`.
 */
export function globalMeanOracle(responses: NDArray, cutFirstNFrames?: number | null): Float64Array {
  check(responses, 'globalMeanOracle');
  const r3: NDArray =
    responses.shape.length === 2 ? { data: responses.data, shape: [responses.shape[0]!, 1, responses.shape[1]!] } : responses;
  check3d(r3, 'globalMeanOracle');
  const r = cutFrames(r3, cutFirstNFrames);
  const [F, R, N] = r.shape;
  const g = new Float64Array(F * R * N);
  for (let i = 0; i < F * R; i++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += r.data[i * N + n]!;
    for (let n = 0; n < N; n++) g[i * N + n] = s / N;
  }
  return correlation({ data: r.data, shape: [F * R, N] }, { data: g, shape: [F * R, N] }, 0).data;
}

/** numpy `nanmean` (NaN when nothing is left). */
export function nanmean(x: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isNaN(x[i]!)) {
      s += x[i]!;
      c++;
    }
  }
  return c ? s / c : NaN;
}

/** numpy `nanstd` (population). */
export function nanstd(x: ArrayLike<number>): number {
  const m = nanmean(x);
  if (Number.isNaN(m)) return NaN;
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isNaN(x[i]!)) {
      s += (x[i]! - m) ** 2;
      c++;
    }
  }
  return Math.sqrt(s / c);
}
