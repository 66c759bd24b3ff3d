import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '@openretina/contracts';
import {
  FlatLaplaceL23dnorm,
  GaussianLaplaceL2,
  Laplace,
  Laplace1d,
  LaplaceL2norm,
  TimeLaplaceL23dnorm,
  gaussian2d,
  groupSparsity,
  temporalSmoothing,
} from '../src/index.js';
import { gradCheck, keysAndShapes, randn } from './helpers.js';

describe('regularizers', () => {
  it('state dicts: persistent Laplace filters as in OpenRetina, non-persistent on request', () => {
    expect(keysAndShapes(new Laplace())).toEqual([['filter', [1, 1, 3, 3]]]);
    expect(keysAndShapes(new Laplace({ filterSize: 7 }))).toEqual([['filter', [1, 1, 7, 7]]]);
    expect(keysAndShapes(new Laplace1d())).toEqual([['filter', [1, 1, 3]]]);
    expect(keysAndShapes(new FlatLaplaceL23dnorm({ padding: 0 }))).toEqual([['laplace.filter', [1, 1, 3, 3]]]);
    expect(keysAndShapes(new TimeLaplaceL23dnorm({ padding: 0, persistentBuffer: false }))).toEqual([]);
    expect(keysAndShapes(new GaussianLaplaceL2(5))).toEqual([['laplace.filter', [1, 1, 3, 3]]]);
  });

  it('finite-difference gradients of every penalty', () => {
    const flat = new FlatLaplaceL23dnorm({ padding: 0 });
    const time = new TimeLaplaceL23dnorm();
    const l2 = new LaplaceL2norm();
    const gauss = new GaussianLaplaceL2(5);
    const cases: [string, number[], (w: tf.Tensor) => tf.Tensor][] = [
      ['FlatLaplaceL23dnorm', [2, 2, 1, 4, 4], (w) => flat.forward(w)],
      ['TimeLaplaceL23dnorm', [2, 2, 5, 1, 1], (w) => time.forward(w, true)],
      ['LaplaceL2norm', [2, 2, 4, 4], (w) => l2.forward(w)],
      ['GaussianLaplaceL2', [2, 2, 5, 5], (w) => gauss.forward(w)],
      ['groupSparsity', [3, 2, 1, 3, 3], (w) => groupSparsity(w)],
    ];
    for (const [name, shape, f] of cases) {
      const w = tf.variable(randn(shape, 3));
      gradCheck(() => tf.reshape(f(w), [1]), { [name]: w });
      w.dispose();
    }
    const sin = tf.variable(randn([2, 2, 4], 1));
    const cos = tf.variable(randn([2, 2, 4], 2));
    gradCheck(() => tf.reshape(temporalSmoothing(sin, cos), [1]), { sin, cos });
    tf.dispose([sin, cos]);
    for (const m of [flat, time, l2, gauss]) m.dispose();
  });

  it('gaussian2d: peak at the (row, column) grid centre shifted by center = (Δcolumn, Δrow), min 0 and max 1', () => {
    const g = gaussian2d([7, 9], { sigma: 1, center: [2, 1] });
    const peak = g.indexOf(Math.max(...g));
    // OpenRetina: y (columns) −= center[0], x (rows) −= center[1].
    expect([Math.floor(peak / 9), peak % 9]).toEqual([3 + 1, 4 + 2]);
    expect(Math.min(...g)).toBe(0);
    expect(Math.max(...g)).toBe(1);
  });

  it('no leaks, and clear errors for bad configs and shapes', () => {
    const reg = new FlatLaplaceL23dnorm({ padding: 0 });
    const w = randn([2, 2, 1, 4, 4], 1);
    const before = tf.memory().numTensors;
    tf.dispose(reg.forward(w));
    tf.dispose(tf.grad((x: tf.Tensor) => reg.forward(x))(w));
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new Laplace({ filterSize: 4 })).toThrow(ConfigError);
    expect(() => reg.forward(tf.zeros([2, 2, 2, 4, 4]))).toThrow(ShapeError);
    expect(() => new TimeLaplaceL23dnorm().forward(tf.zeros([2, 2, 5, 2, 1]))).toThrow(ShapeError);
    expect(() => new LaplaceL2norm().forward(tf.zeros([2, 5, 5]))).toThrow(ShapeError);
    expect(() => new GaussianLaplaceL2(5).forward(tf.zeros([1, 1, 4, 4]))).toThrow(ShapeError);
    w.dispose();
  });
});
