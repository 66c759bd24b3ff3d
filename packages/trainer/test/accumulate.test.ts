import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SessionBatch } from '@openretina/contracts';
import { TfjsEngine, buildCoreReadout, type CoreReadout, type ModelLoss } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '@openretina/onnx/node';
import { relativeError } from '@openretina/test-utils/fixtures';
import { SGD, StepLR, train, type TrainOptions, type TrainingData } from '../src/index.js';
import { tinyCoreReadoutConfig } from '@openretina/test-utils/tiny-core-readout';

// Lightning's accumulate_grad_batches = k: each batch's loss is divided by k, the gradients of k batches summed, then
// one clip + optimizer step. With batches B_1..B_k of the same session and size, and R the (batch-independent)
// regularizers:
//   g_acc = Σ_i ∇(L(B_i) + R) / k = ∇(Σ_i L(B_i)) / k + ∇R.
// For a SUM loss, Σ_i L(B_i) = L(B_1 ∪ … ∪ B_k): g_acc = ∇L(concat)/k + ∇R.
// For a MEAN loss (PoissonLoss3d(avg=True)), Σ_i L(B_i)/k = L(concat): g_acc = ∇(L(concat) + R), i.e. exactly the
// gradient of one step on the concatenated batch, so any optimizer and clipping give the same parameters.
// This needs a forward that treats the samples of a batch independently: no BatchNorm in training mode, so the model
// here is OpenRetina's DummyCore (identity) with Gaussian-mask readouts.

const T = 8;
const H = 5;
const W = 4;
const SESSIONS: Record<string, number> = { a: 3, b: 2 };

function model(loss?: ModelLoss): CoreReadout {
  const m = buildCoreReadout(
    tinyCoreReadoutConfig({
      sessions: SESSIONS,
      inShape: [2, T, H, W],
      core: { _target_: 'openretina.modules.core.base_core.DummyCore' },
      readoutL1: 0.05,
      readoutRegAvg: false,
      learningRate: 0.01,
    }),
    {
      seed: 5,
      dataInfo: {
        nNeuronsDict: SESSIONS,
        meanActivityDict: { a: new Float32Array([0.5, 1, 0.7]), b: new Float32Array([0.9, 0.4]) },
        inputShape: [2, H, W],
      } as never,
    },
  );
  if (loss) m.setLosses({ loss });
  return m;
}

/** A core-readout with a BatchNorm core the ONNX engine covers. */
function bn(loss?: ModelLoss): CoreReadout {
  const m = buildCoreReadout(
    tinyCoreReadoutConfig({
      sessions: SESSIONS,
      inShape: [2, T, H, W],
      hiddenChannels: 3,
      temporalKernel: 3,
      gammaInSparse: 0.05,
      readoutRegAvg: false,
      learningRate: 0.01,
    }),
    { seed: 3 },
  );
  if (loss) m.setLosses({ loss });
  return m;
}

/** Batch i (deterministic): positive stimuli, targets over all T frames. */
function tensors(session: string, seed: number, b: number): { inputs: tf.Tensor5D; targets: tf.Tensor3D } {
  return {
    inputs: tf.randomUniform([b, T, H, W, 2], 0, 1, 'float32', seed) as tf.Tensor5D,
    targets: tf.randomUniform([b, T, SESSIONS[session]!], 0, 3, 'float32', seed + 1) as tf.Tensor3D,
  };
}

function batches(session: string, seeds: number[], b: number): SessionBatch[] {
  return seeds.map((s) => ({ session, ...tensors(session, s, b) }));
}

function concat(session: string, seeds: number[], b: number): SessionBatch {
  const parts = seeds.map((s) => tensors(session, s, b));
  const inputs = tf.concat(parts.map((p) => p.inputs)) as tf.Tensor5D;
  const targets = tf.concat(parts.map((p) => p.targets)) as tf.Tensor3D;
  tf.dispose(parts.flatMap((p) => [p.inputs, p.targets]));
  return { session, inputs, targets };
}

function data(make: (epoch: number) => SessionBatch[], steps?: number): TrainingData {
  return {
    ...(steps === undefined ? {} : { stepsPerEpoch: steps }),
    train: (epoch) => make(epoch),
    validation: () => batches('a', [900], 2),
  };
}

function params(m: CoreReadout): Map<string, Float32Array> {
  return new Map([...m.trainableParameters()].map(([k, v]) => [k, v.dataSync() as Float32Array]));
}

function worst(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()]).toEqual([...b.keys()]);
  return Math.max(...[...a].map(([k, v]) => relativeError(v, b.get(k)!)));
}

const base: TrainOptions = { scheduler: null, restoreBest: false };
const SEEDS = [11, 22, 33];

describe('accumulateGradBatches (Lightning semantics)', () => {
  it('mean loss: k batches with accumulation ≡ one step on their concatenation (AdamW, clipping, 2 epochs)', async () => {
    const loss: ModelLoss = { type: 'poisson', avg: true };
    const opts: TrainOptions = { ...base, maxEpochs: 2, gradientClipVal: 0.05 };
    const acc = model(loss);
    const ra = await train(
      acc,
      data(
        (e) =>
          batches(
            'a',
            SEEDS.map((s) => s + e),
            2,
          ),
        3,
      ),
      { ...opts, accumulateGradBatches: 3 },
    );
    const one = model(loss);
    const rb = await train(
      one,
      data(
        (e) => [
          concat(
            'a',
            SEEDS.map((s) => s + e),
            2,
          ),
        ],
        1,
      ),
      opts,
    );
    expect(ra.history.map((h) => h.step)).toEqual([1, 2]);
    expect(rb.history.map((h) => h.step)).toEqual([1, 2]);
    const err = worst(params(acc), params(one));
    console.log('accumulation vs concatenation (mean loss), largest relative parameter error', err);
    expect(err).toBeLessThan(1e-5);
    // the logged losses are the unscaled per-batch losses (batch-weighted means), equal to the concatenation's
    expect(Math.abs(ra.history[0]!.metrics.train_loss! - rb.history[0]!.metrics.train_loss!)).toBeLessThan(
      1e-5 * Math.abs(rb.history[0]!.metrics.train_loss!),
    );
    // and it is not the same as stepping every batch
    const every = model(loss);
    await train(
      every,
      data(
        (e) =>
          batches(
            'a',
            SEEDS.map((s) => s + e),
            2,
          ),
        3,
      ),
      opts,
    );
    expect(worst(params(every), params(one))).toBeGreaterThan(1e-3);
    for (const m of [acc, one, every]) m.dispose();
  });

  it('sum loss: the accumulated gradient is ∇L(concat)/k + ∇R (one SGD step, checked by hand)', async () => {
    const k = SEEDS.length;
    const lr = 0.05;
    const acc = model();
    const before = params(acc);
    await train(
      acc,
      data(() => batches('a', SEEDS, 2), 3),
      { ...base, maxEpochs: 1, accumulateGradBatches: k, optimizer: (p) => new SGD(p, { lr }) },
    );

    // by hand: the gradients of the Poisson sum on the concatenation and of the regularizers, on a fresh model
    const ref = model();
    const vars = ref.parametersForSession('a');
    const cat = concat('a', SEEDS, 2);
    const gL = tf.variableGrads(() => ref.dataLoss(ref.forward(cat.inputs, { session: 'a' }), cat.targets, 'a'), [...vars.values()]);
    const gR = tf.variableGrads(() => tf.add(ref.core.regularizer(), ref.readout.regularizer('a')) as tf.Scalar, [...vars.values()]);
    let checked = 0;
    for (const [name, v] of vars) {
      const l = gL.grads[v.name];
      const r = gR.grads[v.name];
      const g = tf.tidy(() => tf.add(l ? tf.div(l, k) : tf.zerosLike(v), r ?? tf.zerosLike(v)));
      const expected = tf.tidy(() => tf.sub(tf.tensor(before.get(name)!, v.shape), tf.mul(g, lr)));
      const err = relativeError(params(acc).get(name)!, expected.dataSync() as Float32Array);
      expect(err, name).toBeLessThan(1e-5);
      tf.dispose([g, expected]);
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
    tf.dispose([gL.value, gR.value, ...Object.values(gL.grads), ...Object.values(gR.grads), cat.inputs, cat.targets]);
    // read out before the step: 'before' is the initial state of both models (same seed)
    expect(worst(before, params(ref))).toBe(0);
    acc.dispose();
    ref.dispose();
  });

  it('a last, incomplete group still steps; step-interval schedulers and the step counter follow optimizer steps; memory flat', async () => {
    const m = model();
    const counts: number[] = [];
    const start = tf.memory().numTensors;
    const seen: number[] = [];
    const result = await train(
      m,
      data(
        (e) =>
          batches(
            'a',
            [1, 2, 3, 4, 5].map((s) => s + 10 * e),
            2,
          ),
        5,
      ),
      {
        ...base,
        maxEpochs: 2,
        accumulateGradBatches: 2,
        optimizer: (p) => new SGD(p, { lr: 0.1 }),
        scheduler: (opt) => ({ scheduler: new StepLR(opt, { stepSize: 1, gamma: 0.5 }), monitor: null, interval: 'step', frequency: 1 }),
        callbacks: { onBatchEnd: (ctx) => void seen.push(ctx.globalStep), onEpochEnd: () => void counts.push(tf.memory().numTensors) },
      },
    );
    // 5 batches, k = 2: steps after batches 2, 4 and 5 of each epoch
    expect(seen).toEqual([0, 1, 1, 2, 3, 3, 4, 4, 5, 6]);
    expect(result.history.map((h) => h.step)).toEqual([3, 6]);
    expect(result.history.map((h) => h.lr)).toEqual([0.1, 0.1 * 0.5 ** 3]);
    expect(counts[0]).toBe(counts[1]);
    m.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(start);
    await expect(
      train(
        model(),
        data(() => []),
        { ...base, accumulateGradBatches: 0 },
      ),
    ).rejects.toThrow(/accumulateGradBatches/);
  });

  describe('with a compute engine', () => {
    let ort: OrtLike;
    beforeAll(async () => {
      ort = await loadOnnxRuntimeNode();
    });

    it('the default engine is models’ TfjsEngine under accumulation too (two sessions, partial group: identical runs)', async () => {
      const make = (e: number) => [...batches('a', [1 + e, 2 + e], 2), ...batches('b', [3 + e, 4 + e, 5 + e], 2)];
      const opts: TrainOptions = { ...base, maxEpochs: 2, accumulateGradBatches: 2, gradientClipVal: 0.5 };
      const ref = model();
      await train(ref, data(make, 5), opts);
      const got = model();
      await train(got, data(make, 5), { ...opts, engine: new TfjsEngine(got) });
      expect(worst(params(got), params(ref))).toBe(0);
      ref.dispose();
      got.dispose();
    });

    it('ONNX Runtime engine ≡ TF.js path under accumulation (BatchNorm core, 1e-5)', async () => {
      const make = (e: number) => [...batches('a', [1 + e, 2 + e], 2), ...batches('b', [3 + e], 2)];
      const opts: TrainOptions = { ...base, maxEpochs: 2, accumulateGradBatches: 2, gradientClipVal: 1 };
      const ref = bn();
      await train(ref, data(make, 3), opts);
      const got = bn();
      const engine = new OnnxEngine(got, { ort });
      await train(got, data(make, 3), { ...opts, engine });
      engine.dispose();
      const err = worst(params(got), params(ref));
      console.log('ONNX vs TF.js with accumulation: largest relative parameter error', err);
      expect(err).toBeLessThan(1e-5);
      ref.dispose();
      got.dispose();
    });

    it('the ONNX engine refuses a non-default training loss at the first step; nothing leaks', async () => {
      const m = bn({ type: 'mse' });
      const engine = new OnnxEngine(m, { ort });
      const start = tf.memory().numTensors;
      await expect(
        train(
          m,
          data(() => batches('a', [1, 2], 2)),
          { ...base, maxEpochs: 1, engine },
        ),
      ).rejects.toThrow(/ONNX engine cannot train this model: the ONNX graphs compute only the default loss/);
      expect(tf.memory().numTensors).toBe(start);
      engine.dispose();
      m.dispose();
    });
  });
});
