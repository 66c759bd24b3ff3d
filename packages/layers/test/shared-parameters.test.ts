import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { StateDictError } from '@openretina/contracts';
import { Module } from '../src/index.js';

class Leaf extends Module {
  readonly p: tf.Variable;
  readonly w: tf.Variable;
  constructor(size = 1) {
    super();
    this.w = this.registerParameter('w', tf.ones([2]));
    this.p = this.registerParameter('log_speed_s', tf.zeros([size]));
  }
}

class Owner extends Module {
  readonly shared: tf.Variable;
  readonly a: Leaf;
  readonly b: Leaf;
  constructor() {
    super();
    this.shared = this.registerParameter('log_speed_s', tf.zeros([1]));
    const map = new Map([['log_speed_s', this.shared]]);
    this.a = this.registerModule(
      'a',
      Module.sharingParameters(map, () => new Leaf()),
    );
    this.b = this.registerModule(
      'b',
      Module.sharingParameters(map, () => new Leaf()),
    );
  }
}

describe('shared (tied) parameters', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('appear under every name in the state dict, once in namedParameters, and are disposed once', () => {
    const before = tf.memory().numTensors;
    const m = new Owner();
    expect(m.a.p).toBe(m.shared);
    expect(m.b.p).toBe(m.shared);
    expect([...m.stateDict().keys()]).toEqual(['log_speed_s', 'a.w', 'a.log_speed_s', 'b.w', 'b.log_speed_s']);
    expect([...m.namedParameters().keys()]).toEqual(['log_speed_s', 'a.w', 'b.w']);
    expect(m.numParameters()).toBe(5);
    // A child alone still lists its alias (it does not know the owner).
    expect([...m.a.namedParameters().keys()]).toEqual(['w', 'log_speed_s']);
    const sd = m.stateDict();
    sd.set('b.log_speed_s', { shape: [1], dtype: 'float32', data: new Float32Array([0.25]) });
    sd.set('a.log_speed_s', { shape: [1], dtype: 'float32', data: new Float32Array([0.25]) });
    sd.set('log_speed_s', { shape: [1], dtype: 'float32', data: new Float32Array([0.25]) });
    m.loadStateDict(sd);
    expect(m.shared.dataSync()[0]).toBe(0.25);
    const missing = new Map(sd);
    missing.delete('a.log_speed_s');
    expect(() => m.loadStateDict(missing)).toThrow(StateDictError);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(Module.sharingParameters(new Map(), () => 1)).toBe(1);
  });

  it('refuses a shared variable of the wrong shape', () => {
    const v = tf.variable(tf.zeros([1]));
    expect(() => Module.sharingParameters(new Map([['log_speed_s', v]]), () => new Leaf(2))).toThrow(StateDictError);
    v.dispose();
  });
});
