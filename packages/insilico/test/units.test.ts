import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import {
  StimulusAdam,
  ChangeNormJointlyClipRangeSeparately,
  ContrastiveNeuronObjective,
  ConvergenceStopper,
  EarlyStopper,
  IncreaseObjective,
  MEI_PRESETS,
  meiConvergence,
  meiPreset,
  meiStopper,
  MeanReducer,
  OptimizationStopper,
  RangeRegularizationLoss,
  StimulusSGD,
  SliceMeanReducer,
  TemporalGaussianLowPassFilterProcessor,
  optimizeStimulus,
  type StimulusObjective,
} from '../src/index.js';
import { contrastiveObjective } from '../src/objectives.js';
import { gaussian1dKernel } from '../src/regularizers.js';
import { IdentityModel } from './fake-model.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function randArray(n: number, seed: number, scale = 1): Float32Array {
  const r = seeded(seed);
  return Float32Array.from({ length: n }, () => r() * 2 * scale);
}

describe('stoppers (OpenRetina test_optimization_stopper truth tables)', () => {
  const cases: [number, number, number[], boolean[]][] = [
    [0.0, 1, [1.0], [false]],
    [0.0, 1, [1.0, 1.1, 1.2, 1.3], [false, true, true, true]],
    [0.0, 1, [1.0, 0.9, 0.8, 0.7], [false, false, false, false]],
    [0.0, 3, [1.0, 1.1, 1.2, 1.3], [false, false, false, true]],
    [0.0, 3, [1.0, 0.9, 0.8, 0.7], [false, false, false, false]],
    [0.0, 3, [1.0, 0.9, 0.8, 0.7, 0.8, 0.9, 1.0, 1.1], [false, false, false, false, false, false, true, true]],
    [0.1, 1, [1.0, 1.01, 1.09, 1.15, 0.9, 1.01], [false, false, false, true, false, true]],
  ];
  it.each(cases)('minDelta %s patience %s %j', (minDelta, patience, losses, expected) => {
    const s = new EarlyStopper({ minDelta, patience });
    expect(losses.map((l) => s.earlyStop(l))).toEqual(expected);
  });
  it('OptimizationStopper never stops early; no limit means sys.maxsize-like', () => {
    const s = new OptimizationStopper(null);
    expect(s.maxIterations).toBe(Number.MAX_SAFE_INTEGER);
    expect([1, 2, 3].map((l) => s.earlyStop(l))).toEqual([false, false, false]);
    expect(new OptimizationStopper(10).maxIterations).toBe(10);
    expect(new EarlyStopper().maxIterations).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('reducers', () => {
  const values = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  const x = () => tf.tensor2d(values, [12, 2]);
  it('MeanReducer averages an axis', () => {
    const t = x();
    expect(Array.from(new MeanReducer(0).forward(t).dataSync())).toEqual([
      values.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b) / 12,
      values.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b) / 12,
    ]);
    expect(new MeanReducer(1).forward(t).shape).toEqual([12]);
    t.dispose();
  });
  it('SliceMeanReducer: window [start, start + min(len − start, length))', () => {
    const t = tf.tensor1d(Float32Array.from({ length: 20 }, (_, i) => i));
    const mean = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i).reduce((p, q) => p + q) / (b - a);
    expect(new SliceMeanReducer({ axis: 0, start: 10, length: 10 }).forward(t).dataSync()[0]).toBeCloseTo(mean(10, 20), 5);
    expect(new SliceMeanReducer({ axis: 0, start: 15, length: 10 }).forward(t).dataSync()[0]).toBeCloseTo(mean(15, 20), 5);
    expect(new SliceMeanReducer({ axis: 0, start: 2, length: 3 }).forward(t).dataSync()[0]).toBeCloseTo(mean(2, 5), 5);
    t.dispose();
  });
  it('SliceMeanReducer falls back to [0, min(length, len)) with a warning', () => {
    const warn = vi.fn();
    const t = tf.tensor1d([1, 2, 3, 4, 5]);
    const r = new SliceMeanReducer({ axis: 0, start: 10, length: 3, warn });
    expect(r.forward(t).dataSync()[0]).toBeCloseTo(2, 6);
    expect(warn).toHaveBeenCalledTimes(1);
    const r2 = new SliceMeanReducer({ axis: 0, start: 5, length: 10, warn });
    expect(r2.forward(t).dataSync()[0]).toBeCloseTo(3, 6);
    expect(warn).toHaveBeenCalledTimes(2);
    t.dispose();
  });
});

describe('objectives on hand-made responses', () => {
  // responses = stimulus: [1, T=6, 1, 1, N=5]
  const T = 6;
  const N = 5;
  const data = randArray(T * N, 3);
  const at = (t: number, n: number) => data[t * N + n]!;
  it('IncreaseObjective: reducer(mean over the selected neurons)', () => {
    const model = new IdentityModel(N);
    const x = tf.tensor5d(data, [1, T, 1, 1, N]);
    const single = new IncreaseObjective(model, 2, undefined, new MeanReducer()).forward(x).dataSync()[0]!;
    expect(single).toBeCloseTo(Array.from({ length: T }, (_, t) => at(t, 2)).reduce((a, b) => a + b) / T, 5);
    const group = new IncreaseObjective(model, [1, 3], 'a', new SliceMeanReducer({ axis: 0, start: 2, length: 3 }));
    let want = 0;
    for (let t = 2; t < 5; t++) want += (at(t, 1) + at(t, 3)) / 2 / 3;
    expect(group.forward(x).dataSync()[0]!).toBeCloseTo(want, 5);
    expect(() => new IncreaseObjective(model, 9, undefined, new MeanReducer()).forward(x)).toThrow(/out of range/);
    x.dispose();
  });
  it('ContrastiveNeuronObjective = on/t − logsumexp(all/t) + log(k)', () => {
    const model = new IdentityModel(N);
    const x = tf.tensor5d(data, [1, T, 1, 1, N]);
    const temperature = 1.6;
    const obj = new ContrastiveNeuronObjective(model, [0, 1], [[2], [3, 4]], undefined, new MeanReducer(), temperature);
    const s = Array.from({ length: N }, (_, n) => Array.from({ length: T }, (_, t) => at(t, n)).reduce((a, b) => a + b) / T);
    const on = (s[0]! + s[1]!) / 2;
    const all = [on, s[2]!, (s[3]! + s[4]!) / 2];
    const lse = Math.log(all.reduce((a, v) => a + Math.exp(v / temperature), 0));
    expect(obj.forward(x).dataSync()[0]!).toBeCloseTo(on / temperature - lse + Math.log(3), 5);
    // with equal scores everywhere the objective is 0
    const equal = contrastiveObjective(tf.scalar(2), tf.tensor1d([2, 2, 2]), 0.7);
    expect(equal.dataSync()[0]!).toBeCloseTo(0, 6);
    x.dispose();
  });
  it('objectives need a batch of one', () => {
    const model = new IdentityModel(N);
    const x = tf.zeros([2, T, 1, 1, N]) as tf.Tensor5D;
    expect(() => new IncreaseObjective(model, 0, undefined, new MeanReducer()).forward(x)).toThrow(/batch of 1/);
    x.dispose();
  });
});

describe('regularizers and post-processors', () => {
  const shape: [number, number, number, number, number] = [2, 3, 2, 2, 2];
  const data = randArray(48, 11, 4);
  const ch = (i: number) => i % 2;
  it('RangeRegularizationLoss formula', () => {
    const minMax = [[-0.5, 1] as const, [null, 0.3] as const];
    const x = tf.tensor5d(data, shape);
    let want = 0;
    let sq = 0;
    data.forEach((v, i) => {
      const [lo, hi] = minMax[ch(i)]!;
      if (lo !== null) want += Math.max(0, lo - v);
      if (hi !== null) want += Math.max(0, v - hi);
      sq += v * v;
    });
    const loss = new RangeRegularizationLoss({ minMax, maxNorm: 2, factor: 0.1 }).forward(x).dataSync()[0]!;
    expect(loss).toBeCloseTo(0.1 * (want + Math.max(0, Math.sqrt(sq) - 2)), 4);
    const noNorm = new RangeRegularizationLoss({ minMax, maxNorm: null }).forward(x).dataSync()[0]!;
    expect(noNorm).toBeCloseTo(want, 4);
    const big = new RangeRegularizationLoss({ minMax: [[null, null]], maxNorm: 1e6 }).forward(x).dataSync()[0]!;
    expect(big).toBe(0);
    x.dispose();
  });
  it('ChangeNormJointlyClipRangeSeparately: norm per batch element, then clamp per channel', () => {
    const minMax = [[-0.6, 6.2] as const, [-0.3, null] as const];
    const x = tf.tensor5d(data, shape);
    const y = new ChangeNormJointlyClipRangeSeparately({ minMax, norm: 3 }).process(x).dataSync();
    for (let b = 0; b < 2; b++) {
      let sq = 0;
      for (let i = b * 24; i < (b + 1) * 24; i++) sq += data[i]! ** 2;
      const scale = 3 / Math.sqrt(sq);
      for (let i = b * 24; i < (b + 1) * 24; i++) {
        const [lo, hi] = minMax[ch(i)]!;
        let v = data[i]! * scale;
        if (lo !== null) v = Math.max(lo, v);
        if (hi !== null) v = Math.min(hi, v);
        expect(y[i]!).toBeCloseTo(v, 5);
      }
    }
    const unclipped = new ChangeNormJointlyClipRangeSeparately({
      minMax: [
        [null, null],
        [null, null],
      ],
      norm: 5,
    }).process(x);
    expect(tf.norm(tf.slice(unclipped, [0], [1])).dataSync()[0]!).toBeCloseTo(5, 4);
    expect(() => new ChangeNormJointlyClipRangeSeparately({ minMax: [[0, 1]], norm: null }).process(x)).toThrow(/channels/);
    tf.dispose([x, unclipped]);
  });
  it('gaussian1dKernel and TemporalGaussianLowPassFilterProcessor (zero "same" padding along time)', () => {
    const k = gaussian1dKernel(0.5, 5);
    const raw = [-2, -1, 0, 1, 2].map((v) => Math.exp(-(v * v) / 0.5));
    const sum = raw.reduce((a, b) => a + b);
    raw.forEach((v, i) => expect(k[i]!).toBeCloseTo(v / sum, 6));
    for (const size of [5, 4]) {
      const proc = new TemporalGaussianLowPassFilterProcessor(1.2, size);
      const T = 7;
      const vid = randArray(T * 2 * 3 * 2, 5);
      const x = tf.tensor5d(vid, [1, T, 2, 3, 2]);
      const y = proc.process(x).dataSync();
      const kk = proc.kernel;
      const left = Math.floor((size - 1) / 2);
      for (let t = 0; t < T; t++) {
        for (let p = 0; p < 12; p++) {
          let acc = 0;
          for (let j = 0; j < size; j++) {
            const src = t + j - left;
            if (src >= 0 && src < T) acc += kk[j]! * vid[src * 12 + p]!;
          }
          expect(y[t * 12 + p]!).toBeCloseTo(acc, 5);
        }
      }
      x.dispose();
    }
  });
});

describe('optimizers and the loop', () => {
  class SumObjective implements StimulusObjective {
    forward(x: tf.Tensor5D): tf.Scalar {
      return tf.sum(tf.mul(x, tf.sin(x)));
    }
  }
  const g = (v: number) => -(Math.sin(v) + v * Math.cos(v)); // d(−x sin x)/dx

  it('optimize_stimulus increases the objective (OpenRetina test_optimizer)', async () => {
    for (const lr of [0.1, 10]) {
      const x = tf.variable(tf.tensor5d(randArray(210, 1), [1, 2, 3, 5, 7]));
      const obj: StimulusObjective = { forward: (s) => tf.sum(s) };
      const before = obj.forward(x as unknown as tf.Tensor5D).dataSync()[0]!;
      const r = await optimizeStimulus(x, { optimizer: new StimulusSGD({ lr }), objective: obj, stopper: new OptimizationStopper(10) });
      expect(r.iterations).toBe(10);
      expect(x.shape).toEqual([1, 2, 3, 5, 7]);
      expect(obj.forward(x as unknown as tf.Tensor5D).dataSync()[0]!).toBeGreaterThan(before);
      x.dispose();
    }
  });

  it('SGD with momentum, dampening, weight decay and Nesterov matches torch.optim.SGD formulas', async () => {
    const init = randArray(6, 2);
    for (const opts of [
      { lr: 0.1, momentum: 0.9 },
      { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 },
      { lr: 0.05, momentum: 0.7, nesterov: true },
    ]) {
      const x = tf.variable(tf.tensor5d(init, [1, 1, 1, 2, 3]));
      await optimizeStimulus(x, { optimizer: new StimulusSGD(opts), objective: new SumObjective(), stopper: new OptimizationStopper(4) });
      const p = Array.from(init, Number);
      const buf: number[] = [];
      for (let s = 0; s < 4; s++) {
        p.forEach((v, i) => {
          let d = g(v) + (opts.weightDecay ?? 0) * v;
          buf[i] = s === 0 ? d : buf[i]! * opts.momentum + (1 - (opts.dampening ?? 0)) * d;
          d = opts.nesterov ? d + opts.momentum * buf[i]! : buf[i]!;
          p[i] = v - opts.lr * d;
        });
      }
      Array.from(x.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(p[i]!, 4));
      x.dispose();
    }
  });

  it('Adam matches torch.optim.Adam formulas (eps outside the square root), incl. AMSGrad', async () => {
    const init = randArray(6, 4);
    for (const amsgrad of [false, true]) {
      const x = tf.variable(tf.tensor5d(init, [1, 1, 1, 2, 3]));
      const optimizer = new StimulusAdam({ lr: 0.1, betas: [0.8, 0.9], eps: 1e-3, weightDecay: 0.02, amsgrad });
      await optimizeStimulus(x, { optimizer, objective: new SumObjective(), stopper: new OptimizationStopper(5) });
      optimizer.dispose();
      const p = Array.from(init, Number);
      const m = p.map(() => 0);
      const v = p.map(() => 0);
      const vmax = p.map(() => 0);
      for (let t = 1; t <= 5; t++) {
        p.forEach((w, i) => {
          const gi = g(w) + 0.02 * w;
          m[i] = 0.8 * m[i]! + 0.2 * gi;
          v[i] = 0.9 * v[i]! + 0.1 * gi * gi;
          vmax[i] = Math.max(vmax[i]!, v[i]!);
          const vv = amsgrad ? vmax[i]! : v[i]!;
          p[i] = w - (0.1 / (1 - 0.8 ** t)) * (m[i]! / (Math.sqrt(vv) / Math.sqrt(1 - 0.9 ** t) + 1e-3));
        });
      }
      Array.from(x.dataSync()).forEach((val, i) => expect(val).toBeCloseTo(p[i]!, 4));
      x.dispose();
    }
  });

  it('early stopping uses the pre-step loss; post-processors run after each step', async () => {
    const x = tf.variable(tf.tensor5d([1, 2, 3, 4], [1, 1, 1, 1, 4]));
    // loss = Σx; a step subtracts 1, the post-processor negates: losses 10, −6, 10, −6, 10 → stop after 2 rises
    const obj: StimulusObjective = { forward: (s) => tf.neg(tf.sum(s)) as tf.Scalar };
    const seen: number[] = [];
    const r = await optimizeStimulus(x, {
      optimizer: new StimulusSGD({ lr: 1 }),
      objective: obj,
      stopper: new EarlyStopper({ maxIterations: 50, patience: 2 }),
      postprocessors: { process: (s) => tf.mul(s, -1) as tf.Tensor5D },
      onIteration: ({ loss }) => seen.push(loss),
    });
    expect(r.losses).toEqual(seen);
    expect(r.losses).toEqual([10, -6, 10, -6, 10]);
    expect(r.stoppedEarly).toBe(true);
    expect(r.converged).toBe(false); // an EarlyStopper stop is not a convergence verdict
    x.dispose();
  });

  it('ConvergenceStopper ends the loop once the objective settles and reports convergence; otherwise the cap', async () => {
    // objective = −Σ(x − 2)² on one number, x from 0 with SGD lr 0.1: x → 2 geometrically, the objective → 0
    const run = async (cap: number) => {
      const x = tf.variable(tf.zeros([1, 1, 1, 1, 1]));
      const obj: StimulusObjective = { forward: (s) => tf.neg(tf.sum(tf.square(tf.sub(s, 2)))) as tf.Scalar };
      const opt = new StimulusSGD({ lr: 0.1 });
      const r = await optimizeStimulus(x, {
        optimizer: opt,
        objective: obj,
        stopper: new ConvergenceStopper({ maxIterations: cap, relativeTolerance: 0.6, patience: 2, minIterations: 3 }),
      });
      opt.dispose();
      x.dispose();
      return r;
    };
    // |Δo|/|o| = (1 − 0.64)/0.64 ≈ 0.56 ≤ 0.6 from the second objective on: converged after 3 iterations (the minimum)
    const settled = await run(100);
    expect(settled.converged).toBe(true);
    expect(settled.iterations).toBe(3);
    const capped = await run(2);
    expect(capped.converged).toBe(false);
    expect(capped.iterations).toBe(2);
    expect(meiConvergence(capped, 2).warnings[0]).toMatch(/stopped at the cap of 2 steps/);
  });

  it('ConvergenceStopper: the relative change must stay small for `patience` iterations in a row', () => {
    const s = new ConvergenceStopper({ maxIterations: 100, relativeTolerance: 0.01, patience: 3, minIterations: 0 });
    const seq = [1, 1.005, 1.2, 1.201, 1.2015, 1.202];
    const stops = seq.map((o) => s.earlyStop(-o, o));
    expect(stops).toEqual([false, false, false, false, false, true]);
    expect(s.converged).toBe(true);
    // without an objective (NaN) it watches the loss
    const l = new ConvergenceStopper({ maxIterations: 10, relativeTolerance: 0.1, patience: 1, minIterations: 0 });
    expect([l.earlyStop(-1, Number.NaN), l.earlyStop(-1.01, Number.NaN)]).toEqual([false, true]);
  });

  it('MEI presets: OpenRetina’s never converge early, the default does; the verdict warns about a flat objective', () => {
    expect(meiPreset('openretina')).toBe(MEI_PRESETS.openretina);
    expect(() => meiPreset('nope')).toThrow(/Unknown MEI preset "nope"; expected one of default, openretina/);
    const o = meiStopper(MEI_PRESETS.openretina);
    expect(o.maxIterations).toBe(10);
    for (let i = 0; i < 10; i++) expect(o.earlyStop(-1, 1)).toBe(false);
    const d = meiStopper(MEI_PRESETS.default, 50);
    expect([d.maxIterations, d.minIterations, d.patience, d.relativeTolerance]).toEqual([50, 20, 5, 1e-3]);
    // the ON–OFF neurons' case with 10 steps: 0.0623 → 0.0637
    const flat = meiConvergence(
      { losses: [], objectives: [0.0623, 0.063, 0.0637], iterations: 10, stoppedEarly: false, converged: false, engine: 'tfjs' },
      10,
    );
    expect(flat.hitCap).toBe(true);
    expect(flat.warnings).toHaveLength(2);
    expect(flat.warnings[1]).toMatch(/barely moved \(0\.06230 → 0\.06370, \+2\.2 %\): this MEI is probably noise/);
    const good = meiConvergence(
      { losses: [], objectives: [0.1, 1.6, 1.6], iterations: 30, stoppedEarly: true, converged: true, engine: 'tfjs' },
      300,
    );
    expect(good.warnings).toEqual([]);
  });
});
