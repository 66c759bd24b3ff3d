// A core written by a third party against @openretina/contracts only: it must type-check as a `Core`
// and be accepted wherever the contracts ask for one.
import * as tf from '@tensorflow/tfjs-core';
import { expectTypeOf, test } from 'vitest';
import { SPECIFICATION_VERSION, StateDictError, type Core, type LoadStateDictResult, type StateDict } from '@openretina/contracts';

class MeanPoolCore implements Core {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly inChannels = 2;
  readonly outChannels = 2;
  readonly framesCut = 0;
  training = false;
  private readonly scale = tf.variable(tf.ones([2]), true, 'scale');

  outputShape(s: readonly [number, number, number, number]): [number, number, number, number] {
    return [s[0], s[1], s[2], this.outChannels];
  }
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return tf.tidy(() => tf.mul(x, this.scale) as tf.Tensor5D);
  }
  regularizer(): tf.Scalar {
    return tf.scalar(0);
  }
  namedParameters(): Map<string, tf.Variable> {
    return new Map([['scale', this.scale]]);
  }
  stateDict(): StateDict {
    return new Map([['scale', { shape: [2], dtype: 'float32' as const, data: this.scale.dataSync() as Float32Array }]]);
  }
  loadStateDict(sd: StateDict): LoadStateDictResult {
    const entry = sd.get('scale');
    if (!entry) throw new StateDictError('missing key "scale"');
    this.scale.assign(tf.tensor(entry.data as Float32Array, [2]));
    return { missingKeys: [], unexpectedKeys: [] };
  }
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  dispose(): void {
    this.scale.dispose();
  }
}

function acceptsCore(core: Core): number {
  return core.outChannels;
}

test('a third-party core satisfies the Core contract', () => {
  expectTypeOf<MeanPoolCore>().toMatchTypeOf<Core>();
  expectTypeOf(acceptsCore).parameter(0).toEqualTypeOf<Core>();
  expectTypeOf<Core['forward']>().returns.toEqualTypeOf<tf.Tensor5D>();
});
