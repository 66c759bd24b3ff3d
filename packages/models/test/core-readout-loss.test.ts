import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { celltypePoissonLoss, clipCorrelations, correlationLoss, l1PoissonLoss, mseLoss, poissonLoss } from '@openretina/layers';
import {
  DEFAULT_EVALUATION_LOSS,
  DEFAULT_LOSS,
  applyModelLoss,
  buildCoreReadout,
  isDefaultPoissonLoss,
  lossClassName,
  type CoreReadout,
  type ModelLoss,
} from '../src/index.js';
import { tinyCoreReadoutConfig } from '@openretina/test-utils/tiny-core-readout';

const T = 10;
const SESSIONS = { s1: 3, s2: 2 };

function build(options: { loss?: ModelLoss; evaluationLoss?: ModelLoss } = {}): CoreReadout {
  const m = buildCoreReadout(
    tinyCoreReadoutConfig({ sessions: SESSIONS, inShape: [2, T, 6, 5], hiddenChannels: 3, temporalKernel: 3, gammaInSparse: 0.05 }),
    { seed: 2 },
  );
  m.setLosses(options);
  return m;
}

const value = (t: tf.Tensor): number => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`CoreReadout loss options (${backend})`, () => {
    let x: tf.Tensor5D;
    let y: tf.Tensor3D;
    beforeAll(async () => {
      await initBackend(backend);
      x = tf.randomNormal([2, T, 6, 5, 2], 0, 1, 'float32', 1) as tf.Tensor5D;
      y = tf.randomUniform([2, T, 3], 0, 2, 'float32', 2) as tf.Tensor3D;
    });
    afterAll(() => tf.dispose([x, y]));

    it('defaults are exactly the previous objective: Poisson sum and the mean per-clip correlation', () => {
      const m = build();
      expect(m.lossFunction).toEqual(DEFAULT_LOSS);
      expect(m.evaluationLossFunction).toEqual(DEFAULT_EVALUATION_LOSS);
      expect(m.usesDefaultLoss).toBe(true);
      const out = m.forward(x, { session: 's1' });
      const parts = m.loss(x, y, 's1');
      expect(value(parts.data)).toBe(value(poissonLoss(out, y)));
      expect(value(m.evaluationMetric(x, y, 's1'))).toBe(value(tf.mean(clipCorrelations(out, y))));
      tf.dispose([out, parts.total, parts.regularizers.core, parts.regularizers.readout]);
      m.dispose();
    });

    it('each configured loss is the layers function of the output; total = loss + regularizers', () => {
      const groups = { s1: [1, 2, 2], s2: [3, 1] };
      const counts = [2, 2, 1];
      const cases: [ModelLoss, (o: tf.Tensor, t: tf.Tensor) => tf.Tensor, string][] = [
        [{ type: 'poisson', avg: true, bias: 1e-8 }, (o, t) => poissonLoss(o, t, { avg: true, bias: 1e-8 }), 'PoissonLoss3d'],
        [{ type: 'l1Poisson', gammaL1: 0.01 }, (o, t) => l1PoissonLoss(o, t, { gammaL1: 0.01 }), 'L1PoissonLoss3d'],
        [{ type: 'l1Poisson', avg: true }, (o, t) => l1PoissonLoss(o, t, { avg: true, gammaL1: 0.001 }), 'L1PoissonLoss3d'],
        [
          { type: 'celltypePoisson', groupAssignment: groups, groupCounts: counts },
          (o, t) => celltypePoissonLoss(o, t, groups.s1, counts),
          'CelltypePoissonLoss3d',
        ],
        [{ type: 'mse' }, (o, t) => mseLoss(o, t), 'MSE3d'],
        [{ type: 'correlation' }, (o, t) => correlationLoss(o, t), 'CorrelationLoss3d'],
      ];
      for (const [loss, ref, name] of cases) {
        const m = build({ loss, evaluationLoss: { type: 'poisson', avg: true } });
        expect(lossClassName(loss)).toBe(name);
        expect(m.usesDefaultLoss).toBe(false);
        const out = m.forward(x, { session: 's1' });
        const parts = m.loss(x, y, 's1');
        const expected = value(ref(out, y));
        expect(value(parts.data), name).toBeCloseTo(expected, 5);
        const core = value(parts.regularizers.core);
        const readout = value(parts.regularizers.readout);
        expect(value(parts.total)).toBeCloseTo(expected + core + readout, 4);
        expect(value(m.evaluationMetric(x, y, 's1'))).toBeCloseTo(value(poissonLoss(out, y, { avg: true })), 6);
        out.dispose();
        m.dispose();
      }
    });

    it('gradients flow through a non-default loss; no tensors leak', () => {
      const m = build({ loss: { type: 'l1Poisson', gammaL1: 0.1 } });
      const start = tf.memory().numTensors;
      const { value: v, grads } = tf.variableGrads(() => m.loss(x, y, 's1').total);
      expect(Number.isFinite(v.dataSync()[0]!)).toBe(true);
      expect(Object.values(grads).some((g) => Math.abs(g.dataSync()[0]!) > 0)).toBe(true);
      tf.dispose([v, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(start);
      m.dispose();
    });

    it('refuses per-neuron losses, bad cell types and unknown losses; isDefaultPoissonLoss', () => {
      expect(() => build({ loss: { type: 'poisson', perNeuron: true } as ModelLoss })).toThrow(/scalar/);
      expect(() => build({ loss: { type: 'huber' } as unknown as ModelLoss })).toThrow(/one of the losses/);
      expect(() => build({ loss: { type: 'celltypePoisson', groupAssignment: { s1: [0, 1, 1] }, groupCounts: [3] } })).toThrow(/1-based/);
      const m = build({ loss: { type: 'celltypePoisson', groupAssignment: { s1: [1, 1, 1] }, groupCounts: [3] } });
      const out = m.forward(x, { session: 's2' });
      expect(() => applyModelLoss(m.lossFunction, out, tf.zeros([2, T, 2]), 's2')).toThrow(/no cell types for session s2/);
      out.dispose();
      m.dispose();
      expect(isDefaultPoissonLoss({ type: 'poisson' })).toBe(true);
      expect(isDefaultPoissonLoss({ type: 'poisson', bias: 1e-16 })).toBe(true);
      expect(isDefaultPoissonLoss({ type: 'poisson', avg: true })).toBe(false);
      expect(isDefaultPoissonLoss({ type: 'poisson', bias: 1e-6 })).toBe(false);
    });
  });
}
