import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfjsEngine } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { buildSmallModel } from './small-model.js';
import { observedOrt } from './observed-ort.js';
import { relativeError } from '@openretina/test-utils/fixtures';

/** `ort` whose sessions count their `run` calls. */
function countingRuns(ort: OrtLike): { ort: OrtLike; readonly runs: number } {
  let runs = 0;
  return {
    ort: observedOrt(ort, { onRun: () => runs++ }),
    get runs() {
      return runs;
    },
  };
}

function relErr(got: tf.Tensor, want: tf.Tensor): number {
  return relativeError(got.dataSync(), want.dataSync());
}

/** Makes each readout differ, so that a shared forward must still give each session its own output. */
function distinctReadouts(model: ReturnType<typeof buildSmallModel>, sessions: string[]): void {
  tf.tidy(() => {
    for (const [i, s] of sessions.entries()) {
      for (const [k, v] of model.namedParameters()) {
        if (k.includes(`.${s}.`)) v.assign(tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 7 + i), 0.3)));
      }
    }
  });
}

describe('OnnxEngine.predictSessions: one core forward for sessions that share a stimulus', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
  });

  it('gives each session what predict gives it, from one forward for sessions of different neuron counts', async () => {
    const model = buildSmallModel({ a: 3, b: 3, c: 4 });
    distinctReadouts(model, ['a', 'b', 'c']);
    model.eval();
    const counting = countingRuns(ort);
    const engine = new OnnxEngine(model, { ort: counting.ort });
    const reference = new TfjsEngine(model);
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 3) as tf.Tensor5D;
    const before = tf.memory().numTensors;
    const runsBefore = counting.runs;
    const got = await engine.predictSessions(x, ['c', 'a', 'b']);
    // the forward-weights graph once, the forward once
    expect(counting.runs - runsBefore).toBe(2);
    expect(got.map((t) => t.shape)).toEqual([
      [2, 12, 4],
      [2, 12, 3],
      [2, 12, 3],
    ]);
    for (const [i, s] of ['c', 'a', 'b'].entries()) {
      const alone = await engine.predict(x, s);
      const want = await reference.predict(x, s);
      expect(relErr(got[i]!, alone), `${s}: shared vs per-session forward`).toBeLessThan(1e-6);
      expect(relErr(got[i]!, want), `${s}: shared forward vs TF.js`).toBeLessThan(1e-5);
      tf.dispose([alone, want]);
    }
    // outputs are each session's own: a and b have different readouts
    expect(relErr(got[1]!, got[2]!)).toBeGreaterThan(1e-3);
    // a session named twice gets its own copy of the same values
    const twice = await engine.predictSessions(x, ['a', 'a']);
    expect(Array.from(twice[1]!.dataSync())).toEqual(Array.from(twice[0]!.dataSync()));
    tf.dispose([...got, ...twice]);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    x.dispose();
    model.dispose();
  });

  it('sessions whose core weights differ (a session-specific temporal kernel) run as separate forwards', async () => {
    const model = buildSmallModel({ a: 3, b: 4, c: 2 });
    distinctReadouts(model, ['a', 'b', 'c']);
    model.eval();
    // session b's first layer gets a temporal kernel of its own, as a per-session speed gives it
    const conv = (model.core as unknown as { features: { layers: { conv: { temporalKernel(s?: string): tf.Tensor3D } }[] } }).features
      .layers[0]!.conv;
    const shared = conv.temporalKernel.bind(conv);
    conv.temporalKernel = (s?: string) => (s === 'b' ? tf.tidy(() => tf.mul(shared(s), 1.5)) : shared(s));
    const counting = countingRuns(ort);
    const engine = new OnnxEngine(model, { ort: counting.ort });
    const reference = new TfjsEngine(model);
    const x = tf.randomNormal([1, 16, 9, 8, 2], 0, 1, 'float32', 4) as tf.Tensor5D;
    const before = tf.memory().numTensors;
    const got = await engine.predictSessions(x, ['a', 'b', 'c']);
    // two groups ({a, c} and {b}): a weights graph and a forward each
    expect(counting.runs).toBe(4);
    for (const [i, s] of ['a', 'b', 'c'].entries()) {
      const want = await reference.predict(x, s);
      expect(relErr(got[i]!, want), s).toBeLessThan(1e-5);
      want.dispose();
    }
    tf.dispose(got);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    x.dispose();
    model.dispose();
  });

  it('optimizes a one-block prediction graph only (not the weights graph, not blocks) unless sessionOptions say otherwise', async () => {
    const model = buildSmallModel({ a: 3 });
    model.eval();
    const x = tf.randomNormal([1, 16, 9, 8, 2], 0, 1, 'float32', 4) as tf.Tensor5D; // one time block per layer
    const long = tf.randomNormal([1, 40, 9, 8, 2], 0, 1, 'float32', 5) as tf.Tensor5D; // several
    const levels = async (sessionOptions?: Record<string, unknown>, stimulus = x): Promise<unknown[]> => {
      const seen: unknown[] = [];
      const recording = observedOrt(ort, { onCreate: (options) => seen.push(options?.graphOptimizationLevel) });
      const engine = new OnnxEngine(model, { ort: recording, ...(sessionOptions ? { sessionOptions } : {}) });
      (await engine.predict(stimulus, 'a')).dispose();
      engine.dispose();
      return seen;
    };
    // the forward graph, then the forward-weights graph
    expect(await levels()).toEqual(['all', 'disabled']);
    expect(await levels(undefined, long)).toEqual(['disabled', 'disabled']);
    expect(await levels({ graphOptimizationLevel: 'all' })).toEqual(['all', 'all']);
    expect(await levels({ graphOptimizationLevel: 'disabled' })).toEqual(['disabled', 'disabled']);
    tf.dispose([x, long]);
    model.dispose();
  });

  it('refuses an unknown session or a stimulus of the wrong shape without leaking', async () => {
    const model = buildSmallModel({ a: 3, b: 4 });
    model.eval();
    const engine = new OnnxEngine(model, { ort });
    const x = tf.zeros([1, 16, 9, 8, 2]) as tf.Tensor5D;
    const bad = tf.zeros([1, 16, 9, 7, 2]) as tf.Tensor5D;
    const before = tf.memory().numTensors;
    await expect(engine.predictSessions(x, ['a', 'nope'])).rejects.toThrow(/nope/);
    await expect(engine.predictSessions(bad, ['a', 'b'])).rejects.toThrow(/stimulus/);
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
    tf.dispose([x, bad]);
    model.dispose();
  });
});
