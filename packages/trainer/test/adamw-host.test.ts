import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW } from '../src/index.js';
import { rng } from './tiny-training.js';

/** The tensor-kernel AdamW update (torch.optim.AdamW's rule in TF.js ops): what the host update must equal bit for bit. */
function referenceStep(
  p: tf.Variable,
  g: tf.Tensor,
  s: { m: tf.Variable; v: tf.Variable; max: tf.Variable; step: number },
  o: { lr: number; b1: number; b2: number; eps: number; wd: number; amsgrad: boolean; maximize: boolean },
): void {
  tf.tidy(() => {
    const grad = o.maximize ? tf.neg(g) : g;
    s.step++;
    const decayed = o.wd !== 0 ? tf.mul(p, 1 - o.lr * o.wd) : p;
    const m = tf.add(tf.mul(s.m, o.b1), tf.mul(grad, 1 - o.b1));
    const v = tf.add(tf.mul(s.v, o.b2), tf.mul(tf.mul(grad, grad), 1 - o.b2));
    s.m.assign(m);
    s.v.assign(v);
    let second: tf.Tensor = v;
    if (o.amsgrad) {
      second = tf.maximum(s.max, v);
      s.max.assign(second);
    }
    const denom = tf.add(tf.div(tf.sqrt(second), Math.sqrt(1 - o.b2 ** s.step)), o.eps);
    p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), o.lr / (1 - o.b1 ** s.step))));
  });
}

/** Values over many magnitudes (and exact zeros), so that every rounding path is exercised. */
function values(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return new Float32Array(n).map((_, i) => (i % 17 === 0 ? 0 : (r() - 0.5) * 10 ** Math.floor(r() * 8 - 5)));
}

describe('AdamW on host-memory backends (cpu, wasm): the element-wise host update', () => {
  const settings = [
    { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, amsgrad: false, maximize: false },
    { lr: 0.003, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0, amsgrad: true, maximize: false },
    { lr: 0.1, b1: 0.5, b2: 0.9, eps: 1e-8, wd: 0.3, amsgrad: true, maximize: true },
  ];
  for (const o of settings) {
    it(`equals the tensor kernels' update bit for bit over several steps (${JSON.stringify(o)})`, () => {
      const shape = [7, 3, 5];
      const size = 105;
      const p = tf.variable(tf.tensor(values(size, 1), shape));
      const ref = tf.variable(tf.tensor(values(size, 1), shape));
      const state = {
        m: tf.variable(tf.zeros(shape)),
        v: tf.variable(tf.zeros(shape)),
        max: tf.variable(tf.zeros(shape)),
        step: 0,
      };
      const optimizer = new AdamW(new Map([['w', p]]), {
        lr: o.lr,
        betas: [o.b1, o.b2],
        eps: o.eps,
        weightDecay: o.wd,
        amsgrad: o.amsgrad,
        maximize: o.maximize,
      });
      const before = tf.memory().numTensors;
      for (let k = 0; k < 6; k++) {
        const g = tf.tensor(values(size, 100 + k), shape);
        optimizer.step(new Map([['w', g]]));
        referenceStep(ref, g, state, o);
        g.dispose();
        expect(Array.from(p.dataSync()), `step ${k + 1}`).toEqual(Array.from(ref.dataSync()));
      }
      const sd = optimizer.stateDict().state[0]!;
      expect(Array.from((sd.exp_avg as { data: Float32Array }).data)).toEqual(Array.from(state.m.dataSync()));
      expect(Array.from((sd.exp_avg_sq as { data: Float32Array }).data)).toEqual(Array.from(state.v.dataSync()));
      if (o.amsgrad) expect(Array.from((sd.max_exp_avg_sq as { data: Float32Array }).data)).toEqual(Array.from(state.max.dataSync()));
      expect(sd.step).toBe(6);
      // the optimizer's slots were created on the first step; later steps leave the tensor count unchanged
      expect(tf.memory().numTensors).toBe(before + (o.amsgrad ? 3 : 2));
      optimizer.dispose();
      tf.dispose([p, ref, state.m, state.v, state.max]);
    });
  }
});
