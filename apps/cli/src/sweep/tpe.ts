// Optuna's TPESampler (independent, univariate: its default), written from Optuna's documented algorithm: the first
// `n_startup_trials` trials are random; then the finished trials are split into the best `gamma(n)` and the rest,
// each parameter gets a Parzen estimator (a mixture of truncated Gaussians, or of smoothed categorical kernels) over
// each group, `n_ei_candidates` values are drawn from the good group's estimator and the one maximising l(x)/g(x) is
// kept. Numbers differ from Optuna's for the same seed (another random generator); the behaviour is the same.
import type { RandomSource } from './random-source.js';
import type { Observation } from './samplers.js';
import { sampleUniform } from './samplers.js';
import type { Distribution, ParamValue, SearchSpace } from './search-space.js';

/** TPE's settings, with Optuna's defaults. */
export interface TpeOptions {
  /** Random trials before TPE starts (Optuna: 10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per parameter (Optuna: 24). */
  nEiCandidates?: number;
  /** Weight of the prior (a broad kernel over the whole range) in each estimator (Optuna: 1.0). */
  priorWeight?: number;
  /** Lower bound on bandwidths, (high - low) / min(100, 1 + kernels) (Optuna: true). */
  considerMagicClip?: boolean;
  /** Let the outermost kernels' bandwidths reach the bounds (Optuna: false). */
  considerEndpoints?: boolean;
  /** How many trials are "good", given how many finished (Optuna: min(ceil(0.1 n), 25)). */
  gamma?: (n: number) => number;
  /** Kernel weights by age, oldest first (Optuna: flat for the last 25, a ramp before). */
  weights?: (n: number) => number[];
}

/** Optuna's default_gamma: min(ceil(0.1 n), 25). */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's default_weights: ones for n < 25; otherwise a linear ramp from 1/n to 1 for the oldest n - 25, then ones. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return Array(n).fill(1);
  const ramp = n - 25;
  const out = Array.from({ length: ramp }, (_, i) => (ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1)));
  return [...out, ...Array(25).fill(1)];
}

/** erfc, |relative error| < 1.2e-7 (Numerical Recipes' Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
const normalCdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

function logSumExp(values: number[]): number {
  const m = Math.max(...values);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(values.reduce((s, v) => s + Math.exp(v - m), 0));
}

/** A mixture of truncated Gaussians on [low, high] (values in the transformed domain: log for log distributions). */
interface NumericalEstimator {
  kind: 'numerical';
  mus: number[];
  sigmas: number[];
  weights: number[];
  low: number;
  high: number;
  /** The step of a discrete distribution (probability masses of bins instead of densities); 0 for continuous. */
  step: number;
}
interface CategoricalEstimator {
  kind: 'categorical';
  /** Per kernel, the probability of each choice. */
  probs: number[][];
  weights: number[];
}
type Estimator = NumericalEstimator | CategoricalEstimator;

/** The transformed domain of a numerical distribution: log for log ones; ±step/2 around a discrete range. */
function domain(d: Exclude<Distribution, { kind: 'categorical' }>): { low: number; high: number; step: number } {
  if (d.kind === 'float') return d.log ? { low: Math.log(d.low), high: Math.log(d.high), step: 0 } : { low: d.low, high: d.high, step: 0 };
  if (d.log) return { low: Math.log(d.low - 0.5), high: Math.log(d.high + 0.5), step: 0 };
  return { low: d.low - d.step / 2, high: d.high + d.step / 2, step: d.step };
}

function toDomain(d: Distribution, v: ParamValue): number {
  if (d.kind === 'categorical') {
    const i = d.choices.findIndex((c) => JSON.stringify(c) === JSON.stringify(v));
    return i;
  }
  return d.log ? Math.log(Number(v)) : Number(v);
}

function normalised(weights: number[]): number[] {
  const s = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / s);
}

/** Optuna's univariate Parzen estimator of one parameter from the observed values (oldest first). */
function buildEstimator(d: Distribution, values: number[], o: Required<TpeOptions>): Estimator {
  const kernelWeights = normalised([...o.weights(values.length), o.priorWeight]);
  if (d.kind === 'categorical') {
    const n = d.choices.length;
    const fill = o.priorWeight / (values.length + 1);
    const rows = [...values, -1].map((idx) => {
      const row = Array<number>(n).fill(fill);
      if (idx >= 0) row[idx]! += 1;
      return normalised(row);
    });
    return { kind: 'categorical', probs: rows, weights: kernelWeights };
  }
  const { low, high, step } = domain(d);
  const priorMu = 0.5 * (low + high);
  const priorSigma = high - low;
  const mus = [...values, priorMu];
  const order = mus.map((_, i) => i).sort((a, b) => mus[a]! - mus[b]! || a - b);
  const sorted = order.map((i) => mus[i]!);
  const withEnds = [low, ...sorted, high];
  const sortedSigmas = sorted.map((_, i) => Math.max(withEnds[i + 1]! - withEnds[i]!, withEnds[i + 2]! - withEnds[i + 1]!));
  if (!o.considerEndpoints && withEnds.length >= 4) {
    sortedSigmas[0] = withEnds[2]! - withEnds[1]!;
    sortedSigmas[sortedSigmas.length - 1] = withEnds[withEnds.length - 2]! - withEnds[withEnds.length - 3]!;
  }
  const sigmas = Array<number>(mus.length);
  order.forEach((orig, k) => {
    sigmas[orig] = sortedSigmas[k]!;
  });
  const minSigma = o.considerMagicClip ? (high - low) / Math.min(100, 1 + mus.length) : 1e-12;
  for (let i = 0; i < sigmas.length; i++) sigmas[i] = Math.min(high - low, Math.max(minSigma, sigmas[i]!));
  sigmas[sigmas.length - 1] = priorSigma;
  return { kind: 'numerical', mus, sigmas, weights: kernelWeights, low, high, step };
}

function pickKernel(weights: number[], rng: RandomSource): number {
  let u = rng.next();
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!;
    if (u < 0) return i;
  }
  return weights.length - 1;
}

/** A draw from the estimator (a kernel by weight, then its truncated Gaussian by rejection, or its choice probabilities). */
function sampleEstimator(e: Estimator, rng: RandomSource): number {
  const k = pickKernel(e.weights, rng);
  if (e.kind === 'categorical') return pickKernel(e.probs[k]!, rng);
  for (let tries = 0; tries < 1000; tries++) {
    const x = e.mus[k]! + e.sigmas[k]! * rng.normal();
    if (x >= e.low && x <= e.high) return x;
  }
  return Math.min(e.high, Math.max(e.low, e.mus[k]!));
}

/** log of the estimator's density (or of the bin's mass for a discrete distribution) at x. */
function logDensity(e: Estimator, x: number): number {
  if (e.kind === 'categorical') return logSumExp(e.weights.map((w, k) => Math.log(w) + Math.log(e.probs[k]![x]!)));
  return logSumExp(
    e.mus.map((mu, k) => {
      const s = e.sigmas[k]!;
      const mass = normalCdf((e.high - mu) / s) - normalCdf((e.low - mu) / s);
      let p: number;
      if (e.step > 0) p = normalCdf((x + e.step / 2 - mu) / s) - normalCdf((x - e.step / 2 - mu) / s);
      else p = Math.exp(-0.5 * ((x - mu) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
      return Math.log(e.weights[k]!) + Math.log(Math.max(p, 1e-300)) - Math.log(Math.max(mass, 1e-300));
    }),
  );
}

/** Back from the transformed domain to a parameter value (rounded to the step, clipped to the bounds). */
function fromDomain(d: Distribution, x: number): ParamValue {
  if (d.kind === 'categorical') return d.choices[x]!;
  if (d.kind === 'float') return Math.min(d.high, Math.max(d.low, d.log ? Math.exp(x) : x));
  const v = d.log ? Math.round(Math.exp(x)) : d.low + Math.round((x - d.low) / d.step) * d.step;
  return Math.min(d.high, Math.max(d.low, v));
}

/** The good trials (the best gamma(n), by loss then number) and the rest, each in trial order. */
export function splitObservations(
  finished: readonly Observation[],
  gamma: (n: number) => number,
): { below: Observation[]; above: Observation[] } {
  const ranked = [...finished].sort((a, b) => a.loss - b.loss || a.number - b.number);
  const nBelow = gamma(finished.length);
  const byNumber = (a: Observation, b: Observation) => a.number - b.number;
  return { below: ranked.slice(0, nBelow).sort(byNumber), above: ranked.slice(nBelow).sort(byNumber) };
}

/** The next trial's parameters by TPE (random while fewer than n_startup_trials finished). */
export function sampleTpe(
  space: SearchSpace,
  finished: readonly Observation[],
  rng: RandomSource,
  options: TpeOptions = {},
): Record<string, ParamValue> {
  const o: Required<TpeOptions> = {
    nStartupTrials: 10,
    nEiCandidates: 24,
    priorWeight: 1,
    considerMagicClip: true,
    considerEndpoints: false,
    gamma: defaultGamma,
    weights: defaultWeights,
    ...options,
  };
  const usable = finished.filter((f) => Number.isFinite(f.loss));
  if (usable.length < o.nStartupTrials) {
    return Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleUniform(d, rng)]));
  }
  const { below, above } = splitObservations(usable, o.gamma);
  const params: Record<string, ParamValue> = {};
  for (const [key, d] of Object.entries(space)) {
    const values = (group: Observation[]) =>
      group
        .filter((t) => key in t.params)
        .map((t) => toDomain(d, t.params[key]!))
        .filter((v) => v >= 0 || d.kind !== 'categorical');
    const l = buildEstimator(d, values(below), o);
    const g = buildEstimator(d, values(above), o);
    let best = Number.NaN;
    let bestScore = -Infinity;
    for (let i = 0; i < o.nEiCandidates; i++) {
      let x = sampleEstimator(l, rng);
      if (d.kind !== 'categorical') x = toDomain(d, fromDomain(d, x)); // score the value that would be used
      const score = logDensity(l, x) - logDensity(g, x);
      if (score > bestScore) {
        bestScore = score;
        best = x;
      }
    }
    params[key] = fromDomain(d, best);
  }
  return params;
}
