import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@openretina/contracts';
import {
  celltypeCorrelationLoss,
  celltypePoissonLoss,
  correlationLoss,
  l1CorrelationLoss,
  l1PoissonLoss,
  mseLoss,
  poissonLoss,
  scaledCorrelationLoss,
} from '../src/index.js';
import { close } from './helpers.js';
import { fx, fxTensor } from './fixture.js';

// Hand-made case: B = 2 clips, output T_out = 3 frames, target T = 4 frames (lag 1), N = 2 neurons.
const O = [
  [
    [0.5, 1.0],
    [1.5, 0.2],
    [0.8, 2.0],
  ],
  [
    [1.2, 0.3],
    [0.4, 0.9],
    [2.5, 1.1],
  ],
];
const Y = [
  [
    [9, 9],
    [1, 0],
    [2, 1],
    [0, 3],
  ],
  [
    [9, 9],
    [0, 1],
    [1, 0],
    [3, 2],
  ],
];
const _B = 2;
const T = 3;
const N = 2;
const yAt = (b: number, t: number, n: number): number => Y[b]![t + 1]![n]!;
const oAt = (b: number, t: number, n: number): number => O[b]![t]![n]!;

function elementwise(f: (o: number, y: number, b: number, t: number, n: number) => number): number[][][] {
  return O.map((clip, b) => clip.map((row, t) => row.map((o, n) => f(o, yAt(b, t, n), b, t, n))));
}
const flat = (a: number[][][]): number[] => a.flat(2);
const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);
const mean = (a: number[]): number => sum(a) / a.length;
const perNeuron = (a: number[][][]): number[] => [...Array(N).keys()].map((n) => mean(a.flat(1).map((row) => row[n]!)));

/** Pearson correlation over time for clip b, neuron n (population moments, eps 1e-16). */
function corr(b: number, n: number, t0 = 0, len = T): number {
  const o = [...Array(len).keys()].map((t) => oAt(b, t0 + t, n));
  const y = [...Array(len).keys()].map((t) => yAt(b, t0 + t, n));
  const mo = mean(o);
  const my = mean(y);
  const cov = mean(o.map((v, i) => (v - mo) * (y[i]! - my)));
  const vo = mean(o.map((v) => (v - mo) ** 2));
  const vy = mean(y.map((v) => (v - my) ** 2));
  return cov / Math.sqrt((vo + 1e-16) * (vy + 1e-16));
}

const run = (f: (o: tf.Tensor, y: tf.Tensor) => tf.Tensor): number[] => tf.tidy(() => Array.from(f(tf.tensor(O), tf.tensor(Y)).dataSync()));

describe('losses on a hand-made case', () => {
  const poisson = elementwise((o, y) => o - y * Math.log(o + 1e-16));

  it('poissonLoss: sum, avg, per neuron', () => {
    close(
      run((o, y) => poissonLoss(o, y)),
      [sum(flat(poisson))],
      1e-6,
    );
    close(
      run((o, y) => poissonLoss(o, y, { avg: true })),
      [mean(flat(poisson))],
      1e-6,
    );
    close(
      run((o, y) => poissonLoss(o, y, { perNeuron: true })),
      perNeuron(poisson),
      1e-6,
    );
  });

  it('l1PoissonLoss adds gamma·|output|', () => {
    const l = elementwise((o, y) => o - y * Math.log(o + 1e-16) + 0.001 * Math.abs(o));
    close(
      run((o, y) => l1PoissonLoss(o, y)),
      [sum(flat(l))],
      1e-6,
    );
    const l2 = elementwise((o, y) => o - y * Math.log(o + 1e-16) + 0.05 * Math.abs(o));
    close(
      run((o, y) => l1PoissonLoss(o, y, { gammaL1: 0.05, avg: true })),
      [mean(flat(l2))],
      1e-6,
    );
    close(
      run((o, y) => l1PoissonLoss(o, y, { gammaL1: 0.05, perNeuron: true })),
      perNeuron(l2),
      1e-6,
    );
  });

  it('celltypePoissonLoss weights each neuron by mean(counts)/counts[g−1]', () => {
    const counts = [4, 1];
    const groups = [2, 1];
    const w = groups.map((g) => 2.5 / counts[g - 1]!);
    const l = elementwise((o, y, _b, _t, n) => (o - y * Math.log(o + 1e-16)) * w[n]!);
    close(
      run((o, y) => celltypePoissonLoss(o, y, groups, counts)),
      [sum(flat(l))],
      1e-6,
    );
    close(
      run((o, y) => celltypePoissonLoss(o, y, groups, counts, { perNeuron: true })),
      perNeuron(l),
      1e-6,
    );
  });

  it('correlationLoss: sum, avg, per neuron, negate', () => {
    const c = [0, 1].map((b) => [0, 1].map((n) => corr(b, n)));
    close(
      run((o, y) => correlationLoss(o, y)),
      [-sum(c.flat())],
      1e-6,
    );
    close(
      run((o, y) => correlationLoss(o, y, { avg: true })),
      [-mean(c.flat())],
      1e-6,
    );
    close(
      run((o, y) => correlationLoss(o, y, { avg: true, negate: false })),
      [mean(c.flat())],
      1e-6,
    );
    close(
      run((o, y) => correlationLoss(o, y, { perNeuron: true })),
      [0, 1].map((n) => -mean([c[0]![n]!, c[1]![n]!])),
      1e-6,
    );
    close(
      run((o, y) => correlationLoss(o, y, { perNeuron: true, negate: false })),
      [0, 1].map((n) => mean([c[0]![n]!, c[1]![n]!])),
      1e-6,
    );
  });

  it('celltypeCorrelationLoss: per-neuron and per-clip group assignments', () => {
    const counts = [3, 1];
    const wOf = (g: number): number => 2 / counts[g - 1]!;
    const c = [0, 1].map((b) => [0, 1].map((n) => corr(b, n)));
    // per neuron: groups [1, 2]
    const perN = c.map((row) => row.map((v, n) => v * wOf([1, 2][n]!)));
    close(
      run((o, y) => celltypeCorrelationLoss(o, y, [1, 2], counts)),
      [-sum(perN.flat())],
      1e-6,
    );
    close(
      run((o, y) => celltypeCorrelationLoss(o, y, [1, 2], counts, { avg: true, negate: false })),
      [mean(perN.flat())],
      1e-6,
    );
    // per clip and neuron: [[1, 2], [2, 2]]
    const ga = [1, 2, 2, 2];
    const perBN = c.map((row, b) => row.map((v, n) => v * wOf(ga[b * N + n]!)));
    close(
      run((o, y) => celltypeCorrelationLoss(o, y, ga, counts)),
      [-sum(perBN.flat())],
      1e-6,
    );
    close(
      run((o, y) => celltypeCorrelationLoss(o, y, ga, counts, { perNeuron: true })),
      [0, 1].map((n) => -mean([perBN[0]![n]!, perBN[1]![n]!])),
      1e-6,
    );
    expect(() => run((o, y) => celltypeCorrelationLoss(o, y, [1, 2, 1], counts))).toThrow(ShapeError);
    expect(() => run((o, y) => celltypeCorrelationLoss(o, y, [0, 2], counts))).toThrow(ConfigError);
  });

  it('l1CorrelationLoss adds gamma·Σ|pre_ca| (tuple input)', () => {
    const pre = [
      [
        [-1, 2],
        [0.5, -0.25],
        [0, 3],
        [1, 1],
      ],
      [
        [2, -2],
        [0, 0],
        [1, -1],
        [0.5, 0.5],
      ],
    ]; // [2, 4, 2]
    const absAll = pre.flat(2).map(Math.abs);
    const c = [0, 1].map((b) => [0, 1].map((n) => corr(b, n)));
    const f = (opts: Parameters<typeof l1CorrelationLoss>[2]) =>
      tf.tidy(() => Array.from(l1CorrelationLoss([tf.tensor(O), tf.tensor(pre)], tf.tensor(Y), opts).dataSync()));
    close(f({}), [-sum(c.flat()) + 0.0002 * sum(absAll)], 1e-6);
    close(f({ avg: true }), [-mean(c.flat()) + 0.0002 * mean(absAll)], 1e-6);
    close(
      f({ perNeuron: true, gammaL1: 0.1 }),
      [0, 1].map((n) => -mean([c[0]![n]!, c[1]![n]!]) + 0.1 * mean(pre.flat(1).map((r) => Math.abs(r[n]!)))),
      1e-6,
    );
  });

  it('scaledCorrelationLoss averages window correlations (leftover frames ignored)', () => {
    // scale 1 would be degenerate; use the 3-frame output with scale 2: one window (frames 0–1), frame 2 ignored.
    const c = [0, 1].map((b) => [0, 1].map((n) => corr(b, n, 0, 2)));
    close(
      run((o, y) => scaledCorrelationLoss(o, y, { scale: 2 })),
      [-sum(c.flat())],
      1e-6,
    );
    close(
      run((o, y) => scaledCorrelationLoss(o, y, { scale: 2, perNeuron: true, negate: false })),
      [0, 1].map((n) => mean([c[0]![n]!, c[1]![n]!])),
      1e-6,
    );
    expect(() => run((o, y) => scaledCorrelationLoss(o, y, { scale: 2.5 }))).toThrow(ConfigError);
    expect(() => run((o, y) => scaledCorrelationLoss(o, y, { scale: 4 }))).toThrow(ShapeError);
  });

  it('mseLoss', () => {
    const l = elementwise((o, y) => (o - y) ** 2);
    close(
      run((o, y) => mseLoss(o, y)),
      [sum(flat(l))],
      1e-6,
    );
  });

  it('rejects mismatched shapes', () => {
    expect(() => tf.tidy(() => poissonLoss(tf.zeros([2, 5, 3]), tf.zeros([2, 4, 3])))).toThrow(ShapeError);
    expect(() => tf.tidy(() => correlationLoss(tf.zeros([2, 3, 3]), tf.zeros([2, 4, 2])))).toThrow(ShapeError);
  });
});

describe('losses match OpenRetina (PyTorch)', () => {
  let o: tf.Tensor;
  let t: tf.Tensor;
  beforeAll(() => {
    o = fxTensor('loss/output');
    t = fxTensor('loss/target');
  });
  const counts = [5, 1, 2];
  const same = [1, 3, 2];
  const diff = [1, 3, 2, 2, 2, 1];
  const val = (f: () => tf.Tensor): number[] => tf.tidy(() => Array.from(f().dataSync()));

  it('Poisson family and MSE', () => {
    close(
      val(() => poissonLoss(o, t)),
      fx('loss/poisson/sum').data,
      1e-6,
    );
    close(
      val(() => poissonLoss(o, t, { avg: true })),
      fx('loss/poisson/avg').data,
      1e-6,
    );
    close(
      val(() => poissonLoss(o, t, { perNeuron: true })),
      fx('loss/poisson/per_neuron').data,
      1e-6,
    );
    close(
      val(() => l1PoissonLoss(o, t)),
      fx('loss/l1poisson/sum').data,
      1e-6,
    );
    close(
      val(() => l1PoissonLoss(o, t, { avg: true, gammaL1: 0.01 })),
      fx('loss/l1poisson/avg').data,
      1e-6,
    );
    close(
      val(() => l1PoissonLoss(o, t, { perNeuron: true })),
      fx('loss/l1poisson/per_neuron').data,
      1e-6,
    );
    close(
      val(() => celltypePoissonLoss(o, t, same, counts)),
      fx('loss/celltype_poisson/sum').data,
      1e-6,
    );
    close(
      val(() => celltypePoissonLoss(o, t, same, counts, { perNeuron: true })),
      fx('loss/celltype_poisson/per_neuron').data,
      1e-6,
    );
    close(
      val(() => mseLoss(o, t)),
      fx('loss/mse').data,
      1e-6,
    );
  });

  const variants: [string, { avg?: boolean; perNeuron?: boolean; negate?: boolean }][] = [
    ['sum', {}],
    ['avg', { avg: true }],
    ['per_neuron', { perNeuron: true }],
    ['metric', { avg: true, negate: false }],
  ];
  for (const [tag, opts] of variants) {
    it(`correlation family (${tag})`, () => {
      close(
        val(() => correlationLoss(o, t, opts)),
        fx(`loss/correlation/${tag}`).data,
        1e-5,
      );
      close(
        val(() => celltypeCorrelationLoss(o, t, same, counts, opts)),
        fx(`loss/celltype_corr_same/${tag}`).data,
        1e-5,
      );
      close(
        val(() => celltypeCorrelationLoss(o, t, diff, counts, opts)),
        fx(`loss/celltype_corr_diff/${tag}`).data,
        1e-5,
      );
      close(
        val(() => scaledCorrelationLoss(o, t, { ...opts, scale: 3 })),
        fx(`loss/scaled_corr/${tag}`).data,
        1e-5,
      );
    });
  }

  it('L1 correlation (sum, avg, per neuron with batch 1)', () => {
    const pre = fxTensor('loss/pre_ca');
    close(
      val(() => l1CorrelationLoss([o, pre], t)),
      fx('loss/l1_corr/sum').data,
      1e-5,
    );
    close(
      val(() => l1CorrelationLoss([o, pre], t, { avg: true })),
      fx('loss/l1_corr/avg').data,
      1e-5,
    );
    close(
      val(() => l1CorrelationLoss([tf.slice(o, 0, 1), tf.slice(pre, 0, 1)], tf.slice(t, 0, 1), { perNeuron: true })),
      fx('loss/l1_corr/per_neuron_b1').data,
      1e-5,
    );
    pre.dispose();
  });

  it('losses and their gradients leave no tensors behind', () => {
    const before = tf.memory().numTensors;
    const v = tf.variable(o);
    const fns = [
      () => scaledCorrelationLoss(v, t, { scale: 3 }),
      () => celltypeCorrelationLoss(v, t, diff, counts),
      () => l1CorrelationLoss([v, v], t),
    ];
    for (const f of fns) {
      const start = tf.memory().numTensors;
      tf.dispose(f());
      expect(tf.memory().numTensors, f.toString()).toBe(start);
      const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, [v]);
      expect(Number.isFinite(grads[v.name]!.dataSync()[0])).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
    }
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
