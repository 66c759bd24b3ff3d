// Failure paths of the library: a run that cannot go on stops with a typed error and leaves no tensor behind.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { isOpenRetinaError, type SessionBatch } from '@openretina/contracts';
import { buildCoreReadout, type CoreReadout } from '@openretina/models';
import { train, type TrainingData, type TrainingState } from '../src/index.js';
import { batch, H, SESSIONS, T, tinyModel, W } from './tiny-training.js';

/** Data whose batches come from `make` (each call a fresh pair of tensors, as loaders give). */
function dataOf(make: (session: string, seed: number) => SessionBatch): TrainingData {
  return {
    stepsPerEpoch: 3,
    *train(epoch: number) {
      for (const s of Object.keys(SESSIONS)) yield make(s, 100 * epoch + s.charCodeAt(1));
    },
    *validation() {
      for (const s of Object.keys(SESSIONS).sort()) yield make(s, 777 + s.charCodeAt(1));
    },
  };
}

function withInfTargets(session: string, seed: number): SessionBatch {
  const b = batch(session, seed);
  const y = b.targets.dataSync().slice();
  y[y.length - 1] = Number.POSITIVE_INFINITY; // the last frame: the first ones are cut by the model
  const targets = tf.tensor3d(y, b.targets.shape as [number, number, number]);
  b.targets.dispose();
  return { ...b, targets };
}

/** The trainable parameters (batch-norm statistics, updated by every training forward, are not among them). */
function weights(m: CoreReadout): number[][] {
  return [...m.namedParameters().values()].map((v) => Array.from(v.dataSync()));
}

describe('train() failure paths', () => {
  it('stops at the first non-finite loss with a DataError, keeps the weights before that step, and leaks nothing', async () => {
    const model = tinyModel();
    const before = tf.memory().numTensors;
    const w0 = weights(model);
    const error = await train(model, dataOf(withInfTargets), { maxEpochs: 2, scheduler: null }).catch((e: unknown) => e);
    expect(isOpenRetinaError(error, 'OPENRETINA_DATA')).toBe(true);
    expect((error as Error).message).toMatch(/Training stopped at epoch 1, batch 1 \(session s1\): the loss is (NaN|Infinity)/);
    expect(tf.memory().numTensors).toBe(before);
    expect(weights(model)).toEqual(w0);
    model.dispose();
  });

  it('leaks nothing when train() throws: a bad resume state, a throwing callback, a throwing scheduler factory', async () => {
    const model = tinyModel();
    const good = dataOf(batch);
    const before = tf.memory().numTensors;
    const badResume = {
      epoch: 1,
      globalStep: 3,
      model: new Map(),
      optimizer: { state: {}, param_groups: [] },
      scheduler: null,
      earlyStopping: null,
      best: null,
      history: [],
    } as unknown as TrainingState;
    await expect(train(model, good, { maxEpochs: 2, scheduler: null, resume: badResume })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      train(model, good, {
        maxEpochs: 2,
        scheduler: null,
        callbacks: {
          onEpochEnd: () => {
            throw new Error('callback failed');
          },
        },
      }),
    ).rejects.toThrow('callback failed');
    expect(tf.memory().numTensors).toBe(before);
    await expect(
      train(model, good, {
        maxEpochs: 1,
        scheduler: () => {
          throw new Error('no scheduler');
        },
      }),
    ).rejects.toThrow('no scheduler');
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('leaks nothing when model construction, checkpoint loading or predict throw', async () => {
    const before = tf.memory().numTensors;
    expect(() =>
      buildCoreReadout({
        in_shape: [2, T, H, W],
        n_neurons_dict: SESSIONS,
        hidden_channels: [4],
        core: { temporal_kernel_sizes: [50], spatial_kernel_sizes: [30] },
      } as never),
    ).toThrow();
    expect(tf.memory().numTensors).toBe(before);
    const model = tinyModel();
    const afterBuild = tf.memory().numTensors;
    const sd = model.stateDict();
    const [key, entry] = [...sd][0]!;
    sd.set(key, { ...entry, shape: [...entry.shape, 2] } as typeof entry);
    expect(() => model.loadStateDict(sd)).toThrow();
    expect(tf.memory().numTensors).toBe(afterBuild);
    const x = tf.zeros([1, T, H, W, 2]) as tf.Tensor5D;
    const wrongChannels = tf.zeros([1, T, H, W, 3]) as tf.Tensor5D;
    await expect(model.predict(x, { session: 'nope' })).rejects.toThrow();
    await expect(model.predict(wrongChannels, { session: 's1' })).rejects.toThrow();
    tf.dispose([x, wrongChannels]);
    expect(tf.memory().numTensors).toBe(afterBuild);
    model.dispose();
  });
});
