// evaluateModel on training and validation splits (OpenRetina's evaluation.data_split = train | validation): each
// clip's output is compared with that clip's own targets over the frames it predicts.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ComputeEngine, type SessionBatch, type TrainableModel } from '@openretina/contracts';
import { evaluateModel, loaderSplitSessions, type LoadersByFold } from '../src/index.js';

const CUT = 3; // frames the stand-in model drops, like a core's temporal kernel
const [T, N] = [9, 2];

/** A clip whose input carries its own responses in pixel (0, 0), so the stand-in model can predict them exactly. */
function clip(session: string, seed: number, clips = 2): SessionBatch {
  const targets = tf.randomUniform([clips, T, N], 0.1, 2, 'float32', seed) as tf.Tensor3D;
  const inputs = tf.tidy(
    () =>
      tf.pad(tf.reshape(targets, [clips, T, 1, 1, N]), [
        [0, 0],
        [0, 0],
        [0, 1],
        [0, 1],
        [0, 0],
      ]) as tf.Tensor5D,
  );
  return { session, inputs, targets };
}

/** Predicts the responses carried by the input, from frame CUT on (or `shift` frames later: a misaligned model). */
function engine(shift = 0): Pick<ComputeEngine, 'predict'> {
  return {
    predict: async (x) =>
      tf.tidy(() => tf.reshape(tf.slice(x, [0, CUT - shift, 0, 0, 0], [-1, T - CUT, 1, 1, -1]), [x.shape[0], T - CUT, N]) as tf.Tensor3D),
  };
}

const model = { training: true, train() {}, eval() {} } as unknown as TrainableModel;

function loaders(): LoadersByFold {
  const fold = (base: number) => ({ a: [clip('a', base), clip('a', base + 1)], b: [clip('b', base + 2, 3)] });
  return { train: fold(10), validation: fold(20) };
}

/** Frees every batch (evaluateModel already freed those of the split it evaluated). */
function disposeAll(l: LoadersByFold): void {
  for (const fold of Object.values(l))
    for (const batches of Object.values(fold)) for (const b of batches) tf.dispose([b.inputs, b.targets]);
}

describe('evaluateModel on train and validation splits', () => {
  it('compares every clip with its own targets: a model that predicts them exactly has correlation 1 and MSE 0', async () => {
    for (const split of ['train', 'validation']) {
      const before = tf.memory().numTensors;
      const l = loaders();
      const { rows, summary } = await evaluateModel(
        model,
        loaderSplitSessions(l, split, { a: { cell_type: [5, 7] } }),
        { dataSplit: split },
        engine(),
      );
      expect(rows.map((r) => [r.session, r.neuron_relative_idx, r.data_split])).toEqual([
        ['a', 0, split],
        ['a', 1, split],
        ['b', 0, split],
        ['b', 1, split],
      ]);
      for (const r of rows) {
        expect(r.corr_to_average).toBeCloseTo(1, 5);
        expect(r.mse_to_average).toBeCloseTo(0, 10);
        expect(Number.isNaN(r.var_ratio)).toBe(true); // no trials in a training split
      }
      expect(rows.map((r) => r.cell_type ?? null)).toEqual([5, 7, null, null]);
      expect(summary.temporal_lag).toBe(CUT);
      expect(summary.data_split).toBe(split);
      disposeAll(l);
      expect(tf.memory().numTensors).toBe(before); // evaluateModel disposed what it consumed; the rest was already gone
    }
  });

  it('a model one frame off is seen as worse, and a missing split is a clear error', async () => {
    const [l1, l2] = [loaders(), loaders()];
    const exact = await evaluateModel(model, loaderSplitSessions(l1, 'validation'), { dataSplit: 'validation' }, engine());
    const off = await evaluateModel(model, loaderSplitSessions(l2, 'validation'), { dataSplit: 'validation' }, engine(1));
    expect(off.summary.corr_to_avg_mean).toBeLessThan(exact.summary.corr_to_avg_mean - 0.1);
    expect(() => loaderSplitSessions(l1, 'test')).toThrow(ConfigError);
    expect(() => loaderSplitSessions(l1, 'test')).toThrow(/the loaders have train, validation/);
    disposeAll(l1);
    disposeAll(l2);
  });
});
