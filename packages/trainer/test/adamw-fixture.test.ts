import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW, clipGradNorm } from '../src/index.js';
import { ncdhwToNdhwc, ref, refScalar, relativeError } from '@openretina/test-utils/fixtures';
import { buildFixtureModel } from '@openretina/test-utils/fixture-model';

describe('one OpenRetina training step (clip at norm 1 + AdamW lr 0.01, wd 0.01) on the fixture model', () => {
  it('reproduces train/param_after_adamw/* within 1e-5 and leaves the other sessions untouched', () => {
    const model = buildFixtureModel();
    model.train();
    const { data, shape } = ncdhwToNdhwc(ref('input/x'));
    const x = tf.tensor5d(data, shape);
    const y = tf.tensor3d(ref('train/targets/session_2').data as Float32Array, [2, 50, 35]);
    const all = model.trainableParameters();
    const optimizer = new AdamW(all, { lr: 0.01, weightDecay: 0.01 });
    const untouched = new Map(
      [...all].filter(([k]) => !model.parametersForSession('session_2').has(k)).map(([k, v]) => [k, v.dataSync().slice()]),
    );
    expect(untouched.size).toBe(10);
    const before = tf.memory().numTensors;

    const vars = model.parametersForSession('session_2');
    const byVar = new Map([...vars].map(([k, v]) => [v.name, k]));
    const { value, grads } = tf.variableGrads(() => model.loss(x, y, 'session_2').total, [...vars.values()]);
    const named = new Map(Object.entries(grads).map(([k, g]) => [byVar.get(k)!, g]));
    expect(named.size).toBe(17);
    const clipped = clipGradNorm(named, 1);
    expect(Math.abs(clipped.totalNorm / refScalar('train/grad_total_norm_before_clip') - 1)).toBeLessThan(1e-5);
    expect(Math.abs(clipped.clipCoef / refScalar('train/clip_coef') - 1)).toBeLessThan(1e-5);
    optimizer.step(clipped.grads);
    tf.dispose([value, ...Object.values(grads), ...clipped.grads.values()]);
    // No tensor remains: on host-memory backends (the suite's cpu and wasm) AdamW keeps its moments in host arrays.
    expect(tf.memory().numTensors).toBe(before);

    for (const name of named.keys()) {
      const expected = ref(`train/param_after_adamw/${name}`).data as Float32Array;
      expect(relativeError(all.get(name)!.dataSync(), expected), name).toBeLessThan(1e-5);
    }
    for (const [name, values] of untouched) expect(Array.from(all.get(name)!.dataSync()), name).toEqual(Array.from(values));
    const sd = optimizer.stateDict();
    expect(Object.keys(sd.state)).toHaveLength(17);
    const idx = sd.param_names.indexOf('readout.session_2.bias');
    expect(sd.state[idx]!.step).toBe(1);
    expect(sd.param_groups[0]).toMatchObject({ lr: 0.01, weight_decay: 0.01, eps: 1e-8, betas: [0.9, 0.999], amsgrad: false });
    optimizer.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});
