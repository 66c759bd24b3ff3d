// Cores and readouts written against @openretina/contracts only (no base class of ours) plug into CoreReadout
// and the model registry at the type level. The runtime side (forward, state dicts, train(), checkpoints) is
// tested in packages/trainer/test/third-party-modules.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import {
  SPECIFICATION_VERSION,
  type Core,
  type LoadStateDictResult,
  type MultiReadout,
  type StateDict,
  type TrainableModel,
} from '@openretina/contracts';
import { CoreReadout, buildCore, registerCore, registerReadout, type CoreReadoutOptions } from '../src/index.js';

abstract class Plain {
  training = true;
  readonly specificationVersion = SPECIFICATION_VERSION;
  namedParameters(): Map<string, tf.Variable> {
    return new Map();
  }
  stateDict(): StateDict {
    return new Map();
  }
  loadStateDict(): LoadStateDictResult {
    return { missingKeys: [], unexpectedKeys: [] };
  }
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  regularizer(): tf.Scalar {
    return tf.scalar(0);
  }
  dispose(): void {}
}

class PlainCore extends Plain implements Core {
  readonly inChannels = 2;
  readonly outChannels = 2;
  readonly framesCut = 0;
  outputShape(s: readonly [number, number, number, number]): [number, number, number, number] {
    return [s[0], s[1], s[2], 2];
  }
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return x;
  }
}

class PlainReadout extends Plain implements MultiReadout {
  readonly sessions = ['a'];
  numNeurons(): number {
    return 1;
  }
  forward(features: tf.Tensor5D): tf.Tensor3D {
    return tf.mean(features, [2, 3]) as tf.Tensor3D;
  }
  addSessions(): void {}
}

test('CoreReadout, registerCore and registerReadout take contract-only cores and readouts', () => {
  const model = new CoreReadout({ core: new PlainCore(), readout: new PlainReadout(), inputShape: [2, 4, 4] });
  expectTypeOf(model).toMatchTypeOf<TrainableModel>();
  expectTypeOf(model.core).toEqualTypeOf<Core>();
  expectTypeOf(model.readout).toEqualTypeOf<MultiReadout>();
  expectTypeOf<CoreReadoutOptions['core']>().toEqualTypeOf<Core>();
  expectTypeOf<CoreReadoutOptions['readout']>().toEqualTypeOf<MultiReadout>();
  registerCore('thirdparty.PlainCore', z.object({ width: z.number().optional() }), (o) => {
    expectTypeOf(o.width).toEqualTypeOf<number | undefined>();
    return new PlainCore();
  });
  registerReadout('thirdparty.PlainReadout', z.object({ in_shape: z.array(z.number()) }), (o) => {
    expectTypeOf(o.inShape).toEqualTypeOf<number[]>();
    return new PlainReadout();
  });
  expectTypeOf(buildCore).returns.toEqualTypeOf<Core>();
});
