import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AdamW, SGD, clipGradNorm, createOptimizer, type Optimizer } from '../src/index.js';
import { maxRelErr, trainerFixture } from './helpers.js';

interface Fixture {
  shapes: number[][];
  init: number[][];
  grads: number[][][];
  skip: [number, number][];
  cases: { name: string; options: Record<string, unknown>; params: number[][][] }[];
  clip: { maxNorm: number; normType: number; totalNorm: number; clipped: number[][] }[];
}
const fx = trainerFixture<Fixture>('optimizers.json');

function params(): Map<string, tf.Variable> {
  return new Map(fx.shapes.map((s, i) => [`p${i}`, tf.variable(tf.tensor(fx.init[i]!, s))]));
}

function make(name: string, ps: Map<string, tf.Variable>, o: Record<string, unknown>): Optimizer {
  return name.startsWith('AdamW') ? new AdamW(ps, o as never) : new SGD(ps, o as never);
}

describe('optimizers reproduce PyTorch 1.13 trajectories (fixtures/trainer/optimizers.json)', () => {
  for (const c of fx.cases) {
    it(`${c.name}: 6 steps, a missing gradient skips the parameter; state round-trips mid-run`, () => {
      const ps = params();
      let opt = make(c.name, ps, c.options);
      const before = tf.memory().numTensors;
      fx.grads.forEach((gs, i) => {
        if (i === 3) {
          // Resume into a fresh optimizer from a JSON round-trip of the state.
          const sd = JSON.parse(
            JSON.stringify(opt.stateDict(), (_k, v: unknown) => (v instanceof Float32Array ? { __f32: Array.from(v) } : v)),
            (_k, v: unknown) =>
              v && typeof v === 'object' && '__f32' in (v as object) ? Float32Array.from((v as { __f32: number[] }).__f32) : v,
          );
          opt.dispose();
          opt = make(c.name, ps, c.options);
          opt.loadStateDict(sd);
        }
        const grads = new Map<string, tf.Tensor>();
        gs.forEach((g, j) => {
          if (!fx.skip.some(([a, b]) => a === i && b === j)) grads.set(`p${j}`, tf.tensor(g, fx.shapes[j]!));
        });
        opt.step(grads);
        tf.dispose([...grads.values()]);
        fx.shapes.forEach((_, j) => {
          expect(maxRelErr(ps.get(`p${j}`)!.dataSync(), c.params[i]![j]!), `step ${i} p${j}`).toBeLessThan(2e-6);
        });
      });
      // state tensors: SGD's momentum buffers; AdamW keeps its moments in host arrays on the suite's cpu and wasm
      const slots = c.name.startsWith('AdamW') ? 0 : c.options.momentum ? 1 : 0;
      expect(tf.memory().numTensors).toBe(before + slots * 2);
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...ps.values()]);
    });
  }

  it('clip_grad_norm_ (2-norm, 1-norm, inf-norm): total norm and clipped gradients', () => {
    for (const c of fx.clip) {
      const grads = new Map(fx.shapes.map((s, j) => [`p${j}`, tf.tensor(fx.grads[0]![j]!, s)]));
      const before = tf.memory().numTensors;
      const r = clipGradNorm(grads, c.maxNorm, c.normType === Infinity ? 'inf' : c.normType);
      expect(Math.abs(r.totalNorm / c.totalNorm - 1)).toBeLessThan(1e-6);
      fx.shapes.forEach((_, j) => expect(maxRelErr(r.grads.get(`p${j}`)!.dataSync(), c.clipped[j]!)).toBeLessThan(1e-6));
      expect(tf.memory().numTensors).toBe(before + grads.size);
      tf.dispose([...grads.values(), ...r.grads.values()]);
    }
  });

  it('validates inputs and builds from OpenRetina optimizer configs', () => {
    const ps = params();
    const adamw = createOptimizer(
      { _target_: 'torch.optim.AdamW', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01, amsgrad: false },
      ps,
      0.5,
    );
    expect(adamw).toBeInstanceOf(AdamW);
    expect(adamw.lr).toBe(0.01);
    const sgd = createOptimizer(
      { _target_: 'torch.optim.SGD', lr: 0.02, momentum: 0.9, dampening: 0.0, weight_decay: 0.0, nesterov: false },
      ps,
      0.5,
    ) as SGD;
    expect(sgd.momentum).toBe(0.9);
    expect(createOptimizer(null, ps, 0.003).lr).toBe(0.003);
    expect(() => createOptimizer({ _target_: 'torch.optim.Adam' }, ps, 0.1)).toThrow(
      /optimizer._target_: unknown _target_ "torch.optim.Adam" \(accepted: torch.optim.AdamW, AdamW, torch.optim.SGD, SGD\)/,
    );
    expect(() => createOptimizer({ _target_: 'torch.optim.AdamW', weightdecay: 1 }, ps, 0.1)).toThrow(/weightdecay/);
    const g = new Map([['nope', tf.zeros([1])]]);
    expect(() => adamw.step(g)).toThrow(/nope/);
    const bad = new Map([['p0', tf.zeros([2, 3])]]);
    expect(() => adamw.step(bad)).toThrow(/\[3, ?2\]|3,2|shape/);
    tf.dispose([...g.values(), ...bad.values(), ...ps.values()]);
  });
});
