import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ComputeEngine, SessionBatch } from '@openretina/contracts';
import { TfjsEngine, buildCoreReadout, type CoreReadout } from '@openretina/models';
import { OnnxEngine, createEngine, loadOnnxRuntimeNode, type OrtLike } from '@openretina/onnx/node';
import { relativeError } from '@openretina/test-utils/fixtures';
import { SGD, train, type TrainOptions, type TrainingData } from '../src/index.js';
import { tinyCoreReadoutConfig } from '@openretina/test-utils/tiny-core-readout';

/** What train() takes as an engine. */
type TrainingEngine = Pick<ComputeEngine, 'lossAndGrads' | 'predict'>;

// The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).

const SESSIONS: Record<string, number> = { s1: 3, s2: 2 };
const T = 12;
const H = 6;
const W = 5;

function tinyModel(): CoreReadout {
  return buildCoreReadout(
    tinyCoreReadoutConfig({
      sessions: SESSIONS,
      inShape: [2, T, H, W],
      hiddenChannels: 3,
      gammaInSparse: 0.05,
      readoutRegAvg: false,
      learningRate: 0.01,
    }),
    { seed: 3 },
  );
}

function batch(session: string, seed: number): SessionBatch {
  const n = SESSIONS[session]!;
  const inputs = tf.randomNormal([2, T, H, W, 2], 0, 1, 'float32', seed) as tf.Tensor5D;
  const targets = tf.randomUniform([2, T - 4, n], 0, 2, 'float32', seed + 1) as tf.Tensor3D;
  return { session, inputs, targets };
}

/** Four training batches over both sessions; `log` records when each batch is taken. */
function makeData(log?: string[]): TrainingData {
  return {
    stepsPerEpoch: 4,
    *train(epoch: number) {
      const order = ['s1', 's2', 's2', 's1'];
      for (let i = 0; i < order.length; i++) {
        log?.push(`pull ${i}`);
        yield batch(order[i]!, 1 + 100 * epoch + 10 * i);
      }
    },
    *validation() {
      for (const s of Object.keys(SESSIONS)) yield batch(s, 9000 + s.charCodeAt(1));
    },
  };
}

const base: TrainOptions = { scheduler: null, restoreBest: false, gradientClipVal: 1 };

function weights(m: CoreReadout): Map<string, Float32Array> {
  return new Map([...m.stateDict()].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>, Number)]));
}

async function run(engine: ((m: CoreReadout) => TrainingEngine) | undefined, epochs: number, extra: TrainOptions = {}) {
  const model = tinyModel();
  const result = await train(model, makeData(), { ...base, maxEpochs: epochs, ...extra, ...(engine ? { engine: engine(model) } : {}) });
  const w = weights(model);
  model.dispose();
  return { w, history: result.history };
}

describe('train() with a compute engine', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
  });

  it('the ONNX Runtime engine gives the TF.js path parameters (incl. BatchNorm stats) and losses within 1e-5', async () => {
    const probe = tinyModel();
    expect(OnnxEngine.supports(probe)).toEqual({ ok: true });
    probe.dispose();
    const ref = await run(undefined, 2);
    const engines: OnnxEngine[] = [];
    const got = await run((m) => {
      const e = createEngine(m, 'onnx', ort, { threads: 2 }) as OnnxEngine;
      engines.push(e);
      return e;
    }, 2);
    engines.forEach((e) => e.dispose());
    expect([...got.w.keys()]).toEqual([...ref.w.keys()]);
    let worst = 0;
    for (const [k, v] of ref.w) {
      if (k.endsWith('num_batches_tracked')) expect(Array.from(got.w.get(k)!), k).toEqual(Array.from(v));
      else {
        const err = relativeError(got.w.get(k)!, v);
        worst = Math.max(worst, err);
        expect(err, k).toBeLessThan(1e-5);
      }
    }
    console.log('ONNX vs TF.js training: largest parameter relative error', worst);
    for (let e = 0; e < ref.history.length; e++) {
      for (const key of ['train_total_loss', 'train_loss', 'regularization_loss_core', 'regularization_loss_readout', 'val_total_loss']) {
        const a = got.history[e]!.metrics[key]!;
        const b = ref.history[e]!.metrics[key]!;
        expect(Math.abs(a - b), `${key} epoch ${e}`).toBeLessThanOrEqual(1e-5 * Math.abs(b));
      }
      // a mean correlation (|·| ≤ 1, with cancellation): absolute tolerance
      const corr = got.history[e]!.metrics.val_evaluation_loss! - ref.history[e]!.metrics.val_evaluation_loss!;
      expect(Math.abs(corr)).toBeLessThan(1e-5);
    }
  });

  it('the default engine is models’ TfjsEngine: passing it gives exactly the default run', async () => {
    const ref = await run(undefined, 1);
    const got = await run((m) => new TfjsEngine(m), 1);
    for (const [k, v] of ref.w) expect(Array.from(got.w.get(k)!), k).toEqual(Array.from(v));
  });

  it('the loop steps with the engine’s gradients and validates with its predictions', async () => {
    // An engine whose gradients are twice TF.js's, with plain SGD, is the TF.js run with twice the learning rate;
    // its predictions (the model's forward plus 1) are what validation scores.
    const sgd = (lr: number): TrainOptions => ({ ...base, gradientClipVal: null, optimizer: (p) => new SGD(p, { lr }) });
    const ref = await run(undefined, 1, sgd(0.02));
    let predictions = 0;
    const got = await run(
      (m) => {
        const inner = new TfjsEngine(m);
        return {
          async lossAndGrads(inputs, targets, session, params) {
            const r = await inner.lossAndGrads(inputs, targets, session, params);
            const doubled = new Map([...r.grads].map(([k, g]) => [k, tf.mul(g, 2)]));
            tf.dispose([...r.grads.values()]);
            return { ...r, grads: doubled };
          },
          async predict(x, session) {
            predictions++;
            const y = await inner.predict(x, session);
            const shifted = tf.add(y, 1) as tf.Tensor3D;
            y.dispose();
            return shifted;
          },
        };
      },
      1,
      sgd(0.01),
    );
    let worst = 0;
    for (const [k, v] of ref.w)
      if (!k.includes('running_') && !k.includes('num_batches')) worst = Math.max(worst, relativeError(got.w.get(k)!, v));
    expect(worst).toBeLessThan(1e-5);
    expect(predictions).toBe(2); // one validation batch per session
    expect(got.history[0]!.metrics.val_loss).not.toBeCloseTo(ref.history[0]!.metrics.val_loss!, 3);
  });

  it('prefetches the next batch before awaiting a step, and keeps memory flat', async () => {
    const model = tinyModel();
    const log: string[] = [];
    const onnx = new OnnxEngine(model, { ort });
    let step = 0;
    const engine: TrainingEngine = {
      predict: (x, session) => onnx.predict(x, session),
      async lossAndGrads(inputs, targets, session, params) {
        const i = step++;
        log.push(`start ${i}`);
        const r = await onnx.lossAndGrads(inputs, targets, session, params);
        log.push(`end ${i}`);
        return r;
      },
    };
    const counts: number[] = [];
    const start = tf.memory().numTensors;
    await train(model, makeData(log), {
      ...base,
      maxEpochs: 3,
      engine,
      callbacks: { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
    });
    expect(counts.every((c) => c === counts[0])).toBe(true);
    expect(tf.memory().numTensors).toBe(start);
    // epoch 0: batch i+1 is taken while step i runs
    expect(log.slice(0, 9)).toEqual(['pull 0', 'start 0', 'pull 1', 'end 0', 'start 1', 'pull 2', 'end 1', 'start 2', 'pull 3']);
    onnx.dispose();
    model.dispose();
  });

  it('an engine error frees the current and the prefetched batch', async () => {
    const model = tinyModel();
    const inner = new TfjsEngine(model);
    let calls = 0;
    const engine: TrainingEngine = {
      predict: (x, session) => inner.predict(x, session),
      async lossAndGrads(inputs, targets, session, params) {
        if (++calls === 2) throw new Error('engine failed');
        return inner.lossAndGrads(inputs, targets, session, params);
      },
    };
    const start = tf.memory().numTensors;
    await expect(train(model, makeData(), { ...base, maxEpochs: 1, engine })).rejects.toThrow('engine failed');
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });
});
