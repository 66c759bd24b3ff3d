import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoreReadout } from '@openretina/models';
import {
  AdamW,
  EarlyStopping,
  ReduceLROnPlateau,
  trainingDataFromLoaders,
  collectPredictions,
  evaluateModel,
  testMetrics,
  validate,
  train,
  type TrainingData,
  type TrainingState,
  type TrainOptions,
  type TrainProgress,
} from '../src/index.js';
import { batch, SESSIONS, T, tinyModel } from './tiny-training.js';
import { CsvLogger, writeJsonReport } from '../src/node.js';

const data: TrainingData = {
  stepsPerEpoch: 6,
  *train(epoch: number) {
    const order = epoch % 2 ? ['s3', 's1', 's2'] : ['s2', 's3', 's1'];
    for (let i = 0; i < 2; i++) for (const s of order) yield batch(s, 1000 * epoch + 10 * i + order.indexOf(s));
  },
  *validation() {
    for (const s of Object.keys(SESSIONS).sort()) yield batch(s, 777 + s.charCodeAt(1));
  },
};

const quiet: Partial<TrainOptions> = {};

function weights(m: CoreReadout): Map<string, number[]> {
  return new Map([...m.stateDict()].map(([k, v]) => [k, Array.from(v.data as ArrayLike<number>, Number)]));
}

/** A history without its wall-clock timings (epoch_seconds, the phases), which differ between identical runs. */
function strip(history: { metrics: Record<string, number>; phases?: unknown }[]): unknown[] {
  return history.map(({ phases: _phases, ...h }) => ({ ...h, metrics: { ...h.metrics, epoch_seconds: 0 } }));
}

describe('train(): the training loop', () => {
  it('trains with OpenRetina metrics, keeps the best checkpoint, and keeps memory flat over epochs', async () => {
    const model = tinyModel();
    const counts: number[] = [];
    const bestEpochs: number[] = [];
    const start = tf.memory().numTensors;
    const result = await train(model, data, {
      ...quiet,
      maxEpochs: 5,
      gradientClipVal: 1,
      callbacks: {
        onEpochEnd: () => void counts.push(tf.memory().numTensors),
        onCheckpoint: (_ctx, best) => void bestEpochs.push(best.epoch),
      },
    });
    expect(result.epochsRun).toBe(5);
    expect(counts.every((c) => c === counts[0])).toBe(true);
    expect(tf.memory().numTensors).toBe(start); // optimizer state freed, best weights restored in place
    const m = result.history[0]!.metrics;
    for (const k of [
      'train_total_loss',
      'train_loss',
      'regularization_loss_core',
      'regularization_loss_readout',
      'val_loss',
      'val_regularization_loss_core',
      'val_regularization_loss_readout',
      'val_total_loss',
      'val_evaluation_loss',
    ]) {
      expect(Number.isFinite(m[k]), k).toBe(true);
    }
    expect(m.train_total_loss).toBeCloseTo(m.train_loss! + m.regularization_loss_core! + m.regularization_loss_readout!, 3);
    const scores = result.history.map((h) => h.metrics.val_evaluation_loss!);
    expect(scores[scores.length - 1]!).toBeGreaterThan(scores[0]!); // it learns
    const bestIdx = scores.indexOf(Math.max(...scores));
    expect(result.best!.epoch).toBe(bestIdx);
    expect(bestEpochs[bestEpochs.length - 1]).toBe(bestIdx);
    // The model now holds the best weights.
    const sd = model.stateDict();
    for (const [k, v] of result.best!.stateDict)
      expect(Array.from(sd.get(k)!.data as ArrayLike<number>, Number), k).toEqual(Array.from(v.data as ArrayLike<number>, Number));
    model.dispose();
  });

  it('records where each epoch went: data, step, optimizer, validation, checkpoint, logging, callbacks (ms)', async () => {
    const model = tinyModel();
    const seen: (Record<string, number> | undefined)[] = [];
    const t0 = performance.now();
    const result = await train(model, data, {
      ...quiet,
      maxEpochs: 2,
      logger: { log: (r) => void seen.push(r.phases) },
      callbacks: { onCheckpoint: () => new Promise((r) => setTimeout(r, 5)) },
    });
    const wall = performance.now() - t0;
    expect(seen).toEqual([undefined, undefined]); // loggers see the record before its phases are complete
    for (const h of result.history) {
      const p = h.phases!;
      expect(Object.keys(p)).toEqual(['data', 'step', 'optimizer', 'validation', 'checkpoint', 'logging', 'callbacks']);
      expect(Object.values(p).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
      expect(p.step).toBeGreaterThan(0);
      expect(p.validation).toBeGreaterThan(0);
    }
    expect(result.history[0]!.phases!.checkpoint).toBeGreaterThanOrEqual(4); // the first epoch always improves
    const total = result.history.reduce((a, h) => a + Object.values(h.phases!).reduce((x, y) => x + y, 0), 0);
    expect(total).toBeLessThanOrEqual(wall + 1);
    model.dispose();
  });

  it('is deterministic: identical seeds and data give identical runs', async () => {
    const run = async (): Promise<[Map<string, number[]>, unknown[]]> => {
      const model = tinyModel(7);
      const r = await train(model, data, { ...quiet, maxEpochs: 2, restoreBest: false });
      const w = weights(model);
      model.dispose();
      return [w, strip(r.history)];
    };
    const [w1, h1] = await run();
    const [w2, h2] = await run();
    expect(h2).toEqual(h1);
    expect(w2).toEqual(w1);
  });

  it('resuming from a saved state gives the same result as an uninterrupted run', async () => {
    const opts = (): TrainOptions => ({
      ...quiet,
      maxEpochs: 5,
      restoreBest: false,
      gradientClipVal: 1,
      // patience 0 makes the plateau scheduler cut the LR during the run, so its state matters.
      scheduler: (opt) => ({
        scheduler: new ReduceLROnPlateau(opt, { mode: 'max', factor: 0.5, patience: 0, threshold: 0.5, thresholdMode: 'abs' }),
        monitor: 'val_evaluation_loss',
        interval: 'epoch',
        frequency: 1,
      }),
      earlyStopping: new EarlyStopping({ monitor: 'val_evaluation_loss', mode: 'max', patience: 10 }),
    });
    const full = tinyModel(3);
    const a = await train(full, data, opts());
    expect(new Set(a.history.map((h) => h.lr)).size).toBeGreaterThan(1);

    const first = tinyModel(3);
    let saved: TrainingState | undefined;
    await train(first, data, {
      ...opts(),
      callbacks: {
        onEpochEnd: (ctx) => {
          if (ctx.epoch === 2) {
            saved = ctx.state();
            ctx.stop();
          }
        },
      },
    });
    first.dispose();
    const resumed = tinyModel(99); // different init: everything comes from the state
    const b = await train(resumed, data, { ...opts(), resume: saved! });
    expect(strip(b.history)).toEqual(strip(a.history));
    expect(weights(resumed)).toEqual(weights(full));
    expect(b.best!.epoch).toBe(a.best!.epoch);
    expect(b.finalState.optimizer.param_groups[0].lr).toBe(a.finalState.optimizer.param_groups[0].lr);
    full.dispose();
    resumed.dispose();
  });

  it('a model with dropout: the resume state carries its random stream, so killed + resumed equals uninterrupted', async () => {
    const opts: TrainOptions = { ...quiet, maxEpochs: 3, restoreBest: false };
    const full = tinyModel(4, 0.5);
    const a = await train(full, data, opts);
    const first = tinyModel(4, 0.5);
    let saved: TrainingState | undefined;
    await train(first, data, {
      ...opts,
      callbacks: {
        onEpochEnd: (ctx) => {
          if (ctx.epoch === 1) {
            saved = ctx.state(); // what `last/` holds when the process is killed during epoch 2
            ctx.stop();
          }
        },
      },
    });
    first.dispose();
    expect(Object.keys(saved!.random!)).toEqual(['core.features.layer0.dropout']);
    // the state goes through JSON on disk
    const onDisk = JSON.parse(JSON.stringify(saved!.random)) as Record<string, unknown>;
    const resumed = tinyModel(4, 0.5); // a fresh process builds the model again: its dropout stream starts over
    const b = await train(resumed, data, { ...opts, resume: { ...saved!, random: onDisk } });
    expect(strip(b.history)).toEqual(strip(a.history));
    expect(weights(resumed)).toEqual(weights(full));
    // without the stream the masks differ: the check above can fail
    const { random: _random, ...withoutStream } = saved!;
    const drifted = tinyModel(4, 0.5);
    await train(drifted, data, { ...opts, resume: withoutStream });
    expect(weights(drifted)).not.toEqual(weights(full));
    for (const m of [full, resumed, drifted]) m.dispose();
  });

  it('readout-only training leaves the core unchanged; early stopping and callbacks stop the run', async () => {
    const model = tinyModel(5);
    const core0 = weights(model);
    const r = await train(model, data, { ...quiet, maxEpochs: 3, onlyTrainReadout: true, restoreBest: false, scheduler: null });
    const after = weights(model);
    for (const [k, v] of after) {
      if (k.startsWith('core.') && !k.includes('running_') && !k.includes('num_batches')) expect(v, k).toEqual(core0.get(k));
      if (k === 'readout.s1.features') expect(v).not.toEqual(core0.get(k));
    }
    expect(r.epochsRun).toBe(3);
    model.dispose();

    const m2 = tinyModel(5);
    const es = new EarlyStopping({ monitor: 'val_evaluation_loss', mode: 'max', patience: 1, stoppingThreshold: -2 });
    const r2 = await train(m2, data, { ...quiet, maxEpochs: 5, earlyStopping: es });
    expect(r2.epochsRun).toBe(1);
    expect(r2.stoppedEarly).toBe(true);
    expect(r2.stopReason).toMatch(/threshold/);
    // A caller-owned optimizer is not disposed by the loop.
    const opt = new AdamW(m2.trainableParameters(), { lr: 0.001 });
    await train(m2, data, { ...quiet, maxEpochs: 1, optimizer: opt });
    expect(Object.keys(opt.stateDict().state).length).toBeGreaterThan(0);
    opt.dispose();
    m2.dispose();
  });

  it('progress: events for a display (the loop prints nothing); CSV log and atomic JSON files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trainer-'));
    const events: TrainProgress[] = [];
    const model = tinyModel(2);
    const written: unknown[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: unknown) => {
      written.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      await train(model, data, { maxEpochs: 2, onProgress: (e) => void events.push(e), logger: new CsvLogger(join(dir, 'metrics.csv')) });
    } finally {
      process.stderr.write = write;
    }
    expect(written).toEqual([]);
    const types = events.map((e) => e.type);
    expect(types).toEqual([
      'epochStart',
      ...Array<string>(6).fill('batchEnd'),
      'epochEnd',
      'epochStart',
      ...Array<string>(6).fill('batchEnd'),
      'epochEnd',
      'done',
    ]);
    expect(events[0]).toEqual({ type: 'epochStart', epoch: 0, maxEpochs: 2, stepsPerEpoch: 6 });
    const batch = events[1] as Extract<TrainProgress, { type: 'batchEnd' }>;
    expect(batch).toMatchObject({ epoch: 0, batch: 0, session: 's2' });
    expect(Number.isFinite(batch.loss)).toBe(true);
    const end = events[7] as Extract<TrainProgress, { type: 'epochEnd' }>;
    expect(end.record.epoch).toBe(0);
    expect(end.maxEpochs).toBe(2);
    expect(events[events.length - 1]).toEqual({ type: 'done', epochsRun: 2, stopReason: null });
    const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]!.split(',').slice(0, 4)).toEqual(['epoch', 'step', 'lr', 'train_total_loss']);
    expect(csv).toHaveLength(3);
    writeJsonReport(join(dir, 'sub', 'metrics.json'), { test: { x: { correlation: NaN } } });
    expect(JSON.parse(readFileSync(join(dir, 'sub', 'metrics.json'), 'utf8'))).toEqual({ test: { x: { correlation: null } } });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['metrics.json']);
    model.dispose();
  });

  it('trainingDataFromLoaders: LongCycler epochs, sorted validation, replay for resumed epochs', () => {
    const mk = (session: string, n: number) => ({
      length: n,
      *[Symbol.iterator]() {
        for (let i = 0; i < n; i++) yield batch(session, i);
      },
    });
    const d = trainingDataFromLoaders(
      { train: { s1: mk('s1', 2), s2: mk('s2', 1) }, validation: { s2: mk('s2', 1), s1: mk('s1', 1) } },
      { seed: 3 },
    );
    expect(d.stepsPerEpoch).toBe(4);
    const before = tf.memory().numTensors;
    const e0 = [...d.train(0)].map((b) => {
      tf.dispose([b.inputs, b.targets]);
      return b.session;
    });
    expect(e0.sort()).toEqual(['s1', 's1', 's2', 's2']);
    const e2 = [...d.train(2)];
    expect(e2).toHaveLength(4);
    tf.dispose(e2.flatMap((b) => [b.inputs, b.targets]));
    expect(() => [...d.train(1)]).toThrow(/in order/);
    const v = [...d.validation()];
    expect(v.map((b) => b.session)).toEqual(['s1', 's2']);
    tf.dispose(v.flatMap((b) => [b.inputs, b.targets]));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('evaluation on a split: concatenated predictions, per-neuron results, Lightning-style test metrics', async () => {
    const model = tinyModel(4);
    const before = tf.memory().numTensors;
    const c = await collectPredictions(model, [batch('s2', 1), batch('s2', 2)]);
    expect(c.predictions.shape).toEqual([2 * 2 * (T - 4), 4]);
    expect(c.targets.shape).toEqual([2 * 2 * T, 4]);
    const val = await validate(model, data.validation());
    const tm = testMetrics(model, data.validation());
    expect(tm.correlation).toBeCloseTo(val.val_evaluation_loss!, 5);
    expect(tm.perSession.s2!.perNeuron).toHaveLength(4);
    // One whole "test movie" per session, 3 trials around the average.
    const sessions = Object.fromEntries(
      ['s1', 's2'].map((s) => {
        const b = batch(s, 42, 1);
        const avg = b.targets.dataSync().slice();
        const n = SESSIONS[s]!;
        const trials = new Float32Array(3 * T * n).map((_, i) => avg[i % (T * n)]! + 0.2 * Math.sin(i));
        return [s, { batches: [b], averageResponses: { data: avg, shape: [T, n] }, responsesByTrial: { data: trials, shape: [3, T, n] } }];
      }),
    );
    const ev = await evaluateModel(model, sessions, { modelPath: 'tiny' });
    expect(ev.rows).toHaveLength(7);
    expect(ev.summary.temporal_lag).toBe(4);
    expect(ev.summary.n_test_repeats_max).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
