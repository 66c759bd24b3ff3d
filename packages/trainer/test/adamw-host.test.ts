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
      // the moments live in host arrays between steps: no tensor is left behind
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      tf.dispose([p, ref, state.m, state.v, state.max]);
    });
  }

  it('the moments move between host arrays and tensors when the backend changes, and the updates stay bit for bit', async () => {
    // the cpu kernels under another name: not a host-memory backend to AdamW, so it takes the tensor path
    const cpuBackend = tf.findBackend('cpu')!;
    tf.registerBackend('cpu-tensor-path', () => new (cpuBackend.constructor as new () => tf.KernelBackend)());
    for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'cpu-tensor-path' });
    const home = tf.getBackend();
    const o = { lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, amsgrad: true, maximize: false };
    const shape = [4, 6];
    const p = tf.variable(tf.tensor(values(24, 3), shape));
    const ref = tf.variable(tf.tensor(values(24, 3), shape));
    const state = { m: tf.variable(tf.zeros(shape)), v: tf.variable(tf.zeros(shape)), max: tf.variable(tf.zeros(shape)), step: 0 };
    const optimizer = new AdamW(new Map([['w', p]]), { lr: o.lr, betas: [o.b1, o.b2], eps: o.eps, weightDecay: o.wd, amsgrad: o.amsgrad });
    try {
      const tensorsBefore = tf.memory().numTensors;
      for (const [k, backend] of [home, home, 'cpu-tensor-path', 'cpu-tensor-path', home, home].entries()) {
        await tf.setBackend(backend);
        const g = tf.tensor(values(24, 200 + k), shape);
        optimizer.step(new Map([['w', g]]));
        referenceStep(ref, g, state, o);
        g.dispose();
        expect(Array.from(p.dataSync()), `step ${k + 1} on ${backend}`).toEqual(Array.from(ref.dataSync()));
        // on the tensor path the three moments are tensors, on the host none
        expect(tf.memory().numTensors, `step ${k + 1} on ${backend}`).toBe(tensorsBefore + (backend === home ? 0 : 3));
      }
      const sd = optimizer.stateDict().state[0]!;
      expect(Array.from((sd.exp_avg_sq as { data: Float32Array }).data)).toEqual(Array.from(state.v.dataSync()));
      expect(Array.from((sd.max_exp_avg_sq as { data: Float32Array }).data)).toEqual(Array.from(state.max.dataSync()));
      expect(sd.step).toBe(6);
    } finally {
      await tf.setBackend(home);
      optimizer.dispose();
      tf.dispose([p, ref, state.m, state.v, state.max]);
      tf.removeBackend('cpu-tensor-path');
    }
  });
});
