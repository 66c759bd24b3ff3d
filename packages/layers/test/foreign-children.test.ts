// A child written against @openretina/contracts only (no Module base): the tree reaches it through the
// StatefulModule contract for state dicts, strict loading, parameters, train/eval and dispose.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  StateDictError,
  isOpenRetinaError,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type StateDict,
  type StatefulModule,
} from '@openretina/contracts';
import { Module } from '../src/index.js';

/** Holds a weight `[2, 3]` (stored transposed, as a TF.js layer might) and a step-counter buffer. */
class PlainChild implements StatefulModule {
  training = true;
  disposed = false;
  loads = 0;
  readonly weight = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]));
  private steps = 0;

  namedParameters(): Map<string, tf.Variable> {
    return new Map([['weight', this.weight]]);
  }
  stateDict(): StateDict {
    const w = tf.tidy(() => tf.transpose(this.weight).dataSync() as Float32Array);
    return new Map([
      ['weight', { shape: [2, 3], dtype: 'float32' as const, data: w }],
      ['steps', { shape: [], dtype: 'int64' as const, data: BigInt64Array.of(BigInt(this.steps)) }],
    ]);
  }
  loadStateDict(sd: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    this.loads++;
    const w = sd.get('weight');
    const s = sd.get('steps');
    const missingKeys = [...(w ? [] : ['weight']), ...(s ? [] : ['steps'])];
    if ((options.strict ?? true) && missingKeys.length) throw new StateDictError(`PlainChild: missing ${missingKeys.join(', ')}`);
    if (w) tf.tidy(() => this.weight.assign(tf.transpose(tf.tensor2d(w.data as Float32Array, [2, 3]))));
    if (s) this.steps = Number((s.data as BigInt64Array)[0]);
    return { missingKeys, unexpectedKeys: [] };
  }
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  dispose(): void {
    this.disposed = true;
    this.weight.dispose();
  }
}

class Leaf extends Module {
  constructor() {
    super();
    this.registerParameter('bias', tf.zeros([2]));
    this.registerBuffer('count', tf.scalar(0, 'int32'));
  }
}

class Tree extends Module {
  readonly child: PlainChild;
  readonly leaf: Leaf;
  constructor() {
    super();
    this.registerParameter('scale', tf.ones([1]));
    this.child = this.registerModule('foreign', new PlainChild());
    this.leaf = this.registerModule('leaf', new Leaf());
  }
}

describe('Module with a foreign (contract-only) child', () => {
  it('state dict: the child’s entries under its name, in registration order; namedParameters and trainable flags', () => {
    const t = new Tree();
    expect([...t.stateDict()].map(([k, v]) => [k, [...v.shape], v.dtype])).toEqual([
      ['scale', [1], 'float32'],
      ['foreign.weight', [2, 3], 'float32'],
      ['foreign.steps', [], 'int64'],
      ['leaf.bias', [2], 'float32'],
      ['leaf.count', [], 'int32'],
    ]);
    expect(Array.from(t.stateDict().get('foreign.weight')!.data as Float32Array)).toEqual([1, 3, 5, 2, 4, 6]);
    expect([...t.namedParameters().keys()]).toEqual(['scale', 'foreign.weight', 'leaf.bias']);
    expect(t.namedParameters().get('foreign.weight')).toBe(t.child.weight);
    expect(t.numParameters()).toBe(1 + 6 + 2);
    t.setTrainable(false);
    expect(t.child.weight.trainable).toBe(false);
    expect(t.trainableParameters().size).toBe(0);
    t.setTrainable(true);
    expect([...t.namedModules().keys()]).toEqual(['', 'foreign', 'leaf']);
    expect(t.namedModules().get('foreign')).toBe(t.child);
    t.dispose();
  });

  it('loadStateDict round trip through the child’s own loadStateDict (its layout, its buffers)', () => {
    const a = new Tree();
    const b = new Tree();
    const sd = a.stateDict();
    sd.set('foreign.weight', { shape: [2, 3], dtype: 'float32', data: Float32Array.of(9, 8, 7, 6, 5, 4) });
    sd.set('foreign.steps', { shape: [], dtype: 'int64', data: BigInt64Array.of(7n) });
    b.loadStateDict(sd);
    expect(b.child.loads).toBe(1);
    expect(Array.from(b.child.weight.dataSync())).toEqual([9, 6, 8, 5, 7, 4]); // stored transposed
    expect((b.stateDict().get('foreign.steps')!.data as BigInt64Array)[0]).toBe(7n);
    a.dispose();
    b.dispose();
  });

  it('strict loading checks the child’s keys and shapes with the rest of the tree, all problems at once, changing nothing', () => {
    const t = new Tree();
    const before = t.stateDict();
    const sd = new Map(before);
    sd.delete('foreign.steps');
    sd.set('foreign.weight', { shape: [3, 2], dtype: 'float32', data: new Float32Array(6) });
    sd.set('foreign.extra', { shape: [1], dtype: 'float32', data: new Float32Array(1) });
    sd.set('scale', { shape: [1], dtype: 'float32', data: Float32Array.of(5) });
    let error: unknown;
    try {
      t.loadStateDict(sd);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect(isOpenRetinaError(error, 'OPENRETINA_STATE_DICT')).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/foreign\.weight: expected \[2, 3\], got \[3, 2\]/);
    expect(message).toMatch(/missing keys: foreign\.steps/);
    expect(message).toMatch(/unexpected keys: foreign\.extra/);
    expect(t.child.loads).toBe(0);
    expect(Array.from(t.stateDict().get('scale')!.data as Float32Array)).toEqual([1]);
    // non-strict: missing child entries are reported, the rest loads
    const partial = new Map(before);
    partial.delete('foreign.steps');
    partial.set('scale', { shape: [1], dtype: 'float32', data: Float32Array.of(3) });
    const result = t.loadStateDict(partial, { strict: false });
    expect(result.missingKeys).toEqual(['foreign.steps']);
    expect(Array.from(t.stateDict().get('scale')!.data as Float32Array)).toEqual([3]);
    t.dispose();
  });

  it('train/eval reach the child; dispose frees it; a non-module child is refused', () => {
    const t = new Tree();
    t.eval();
    expect(t.child.training).toBe(false);
    expect(t.leaf.training).toBe(false);
    t.train();
    expect(t.child.training).toBe(true);
    const before = tf.memory().numTensors;
    const child = t.child;
    t.dispose();
    expect(child.disposed).toBe(true);
    expect(tf.memory().numTensors).toBeLessThan(before);
    class Bad extends Module {
      constructor() {
        super();
        this.registerModule('x', { stateDict: () => new Map() } as unknown as StatefulModule);
      }
    }
    expect(() => new Bad()).toThrow(/"x" of Bad is not a module/);
  });
});
