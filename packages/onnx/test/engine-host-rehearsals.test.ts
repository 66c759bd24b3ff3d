import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, type LossAndGradients } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { OnnxEngine, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { observedOrt } from './observed-ort.js';
import { buildSmallModel, randomizeWeights } from './small-model.js';

/** Every float and integer value of the model's state, by name. */
function snapshot(model: CoreReadout): Map<string, number[]> {
  return new Map([...model.stateDict()].map(([k, v]) => [k, Array.from(v.data as ArrayLike<number | bigint>, Number)]));
}

/** One training step through a fresh engine: its result, the model's state after it and the graph runs it made. */
async function firstStep(
  model: CoreReadout,
  ort: OrtLike,
  hostRehearsals: number | undefined,
  x: tf.Tensor5D,
  y: tf.Tensor3D,
): Promise<{ step: LossAndGradients; state: Map<string, number[]>; runs: number }> {
  let runs = 0;
  const engine = new OnnxEngine(model, {
    ort: observedOrt(ort, { onRun: () => runs++ }),
    ...(hostRehearsals === undefined ? {} : { hostRehearsals }),
  });
  model.train();
  const before = tf.memory().numTensors;
  const step = await engine.lossAndGrads(x, y, 'a');
  expect(tf.memory().numTensors - before).toBe(step.grads.size);
  const state = snapshot(model);
  engine.dispose();
  return { step, state, runs };
}

describe('OnnxEngine: rehearsals of the training step host side', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
  });

  it('change nothing: the first step with the default rehearsals equals one without, value for value, after one graph run', async () => {
    // a rehearsal that updated the BatchNorm running statistics from its zero outputs, or ran the graph, would
    // leave another state or another count of runs
    const model = buildSmallModel({ a: 3, b: 4 }, { positive: true });
    randomizeWeights(model, 11);
    const start = model.stateDict();
    const x = tf.randomNormal([3, 16, 9, 8, 2], 0, 1, 'float32', 5) as tf.Tensor5D;
    const y = tf.randomUniform([3, 16, 3], 0, 2, 'float32', 6) as tf.Tensor3D;

    const plain = await firstStep(model, ort, 0, x, y);
    model.loadStateDict(start);
    const rehearsed = await firstStep(model, ort, undefined, x, y);

    expect([plain.runs, rehearsed.runs]).toEqual([1, 1]);
    expect(rehearsed.step.total).toBe(plain.step.total);
    expect(rehearsed.step.regularizers).toEqual(plain.step.regularizers);
    expect([...rehearsed.step.grads.keys()]).toEqual([...plain.step.grads.keys()]);
    for (const [name, g] of plain.step.grads)
      expect(Array.from(rehearsed.step.grads.get(name)!.dataSync()), name).toEqual(Array.from(g.dataSync()));
    expect(rehearsed.state).toEqual(plain.state);
    // one step's BatchNorm update, not four
    const tracked = [...rehearsed.state].filter(([k]) => k.endsWith('num_batches_tracked'));
    expect(tracked.length).toBeGreaterThan(0);
    for (const [k, v] of tracked) expect(v, k).toEqual([1]);
    tf.dispose([...plain.step.grads.values(), ...rehearsed.step.grads.values(), x, y]);
    model.dispose();
  });

  it('happen before the first step of a training graph only: 3 by default, or the count given', async () => {
    // each rehearsal and each step reads the session's parameters once
    const model = buildSmallModel({ a: 3, b: 4 });
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 7) as tf.Tensor5D;
    const ya = tf.randomUniform([2, 16, 3], 0, 2, 'float32', 8) as tf.Tensor3D;
    const yb = tf.randomUniform([2, 16, 4], 0, 2, 'float32', 9) as tf.Tensor3D;
    model.train();
    for (const [hostRehearsals, want] of [
      [undefined, 3],
      [1, 1],
      [0, 0],
    ] as const) {
      const engine = new OnnxEngine(model, { ort, ...(hostRehearsals === undefined ? {} : { hostRehearsals }) });
      const reads = vi.spyOn(model, 'parametersForSession');
      const first = await engine.lossAndGrads(x, ya, 'a');
      expect(reads, `hostRehearsals ${hostRehearsals}`).toHaveBeenCalledTimes(want + 1);
      // session b shares a's training graph (the neuron count is symbolic): its session exists, no rehearsal
      const second = await engine.lossAndGrads(x, yb, 'b');
      const third = await engine.lossAndGrads(x, ya, 'a');
      expect(reads).toHaveBeenCalledTimes(want + 3);
      reads.mockRestore();
      tf.dispose([...first.grads.values(), ...second.grads.values(), ...third.grads.values()]);
      engine.dispose();
    }
    tf.dispose([x, ya, yb]);
    model.dispose();
  });

  it('refuses a count that is not a whole number ≥ 0', () => {
    const model = buildSmallModel();
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => new OnnxEngine(model, { ort, hostRehearsals: bad })).toThrow(ConfigError);
      expect(() => new OnnxEngine(model, { ort, hostRehearsals: bad })).toThrow(/hostRehearsals must be a whole number ≥ 0, got/);
    }
    model.dispose();
  });
});
