// A model and a compute engine written by a third party against @openretina/contracts only: they must type-check
// as a `TrainableModel` and a `ComputeEngine`, the types `train()`, `optimizeStimulus()` and the predict paths take.
import * as tf from '@tensorflow/tfjs-core';
import { expectTypeOf, test } from 'vitest';
import {
  SPECIFICATION_VERSION,
  type ComputeEngine,
  type InputGradient,
  type LossAndGradients,
  type LossParts,
  type LoadStateDictResult,
  type StateDict,
  type TrainableModel,
} from '@openretina/contracts';

/** One neuron: a learned gain on the mean of the stimulus, no core/readout split. */
class GainModel implements TrainableModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly sessions = ['default'];
  readonly neuronsPerSession = { default: 1 };
  readonly stimulus = { channels: 1, height: 4, width: 4 };
  readonly framesCut = 0;
  readonly learningRate = 0.01;
  training = true;
  private readonly gain = tf.variable(tf.scalar(1), true, 'gain');

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return [batch, frames, 4, 4, 1];
  }
  forward(x: tf.Tensor5D): tf.Tensor3D {
    return tf.tidy(() => tf.mul(tf.expandDims(tf.mean(x, [2, 3, 4]), 2), this.gain) as tf.Tensor3D);
  }
  async predict(x: tf.Tensor5D): Promise<tf.Tensor3D> {
    return this.forward(x);
  }
  parametersForSession(): Map<string, tf.Variable> {
    return new Map([['gain', this.gain]]);
  }
  dataLoss(output: tf.Tensor3D, targets: tf.Tensor3D): tf.Scalar {
    return tf.losses.meanSquaredError(targets, output) as tf.Scalar;
  }
  regularizers(): Record<string, tf.Scalar> {
    return {};
  }
  loss(inputs: tf.Tensor5D, targets: tf.Tensor3D): LossParts {
    const data = this.dataLoss(this.forward(inputs), targets);
    return { total: data, data, regularizers: this.regularizers() };
  }
  evaluationLoss(output: tf.Tensor3D, targets: tf.Tensor3D): tf.Scalar {
    return tf.neg(this.dataLoss(output, targets));
  }
  namedParameters(): Map<string, tf.Variable> {
    return new Map([['gain', this.gain]]);
  }
  stateDict(): StateDict {
    return new Map([['gain', { shape: [], dtype: 'float32' as const, data: this.gain.dataSync() as Float32Array }]]);
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
  dispose(): void {
    this.gain.dispose();
  }
}

/** An engine that computes everything with TF.js. */
class PlainEngine implements ComputeEngine {
  readonly name = 'plain';
  constructor(readonly model: TrainableModel) {}
  async lossAndGrads(x: tf.Tensor5D, y: tf.Tensor3D, session: string): Promise<LossAndGradients> {
    const params = this.model.parametersForSession(session);
    const { value, grads } = tf.variableGrads(() => this.model.loss(x, y, session).total, [...params.values()]);
    const total = value.dataSync()[0]!;
    value.dispose();
    return { total, data: total, regularizers: {}, grads: new Map([...params].map(([k, v]) => [k, grads[v.name]!])) };
  }
  async inputGradient(x: tf.Tensor5D, session: string, cotangent: tf.Tensor3D): Promise<InputGradient> {
    const output = this.model.forward(x, { session });
    const grad = tf.grad((s: tf.Tensor) => tf.sum(tf.mul(this.model.forward(s as tf.Tensor5D, { session }), cotangent)))(x) as tf.Tensor5D;
    return { output, grad };
  }
  async predict(x: tf.Tensor5D, session: string): Promise<tf.Tensor3D> {
    return this.model.forward(x, { session });
  }
  dispose(): void {}
}

function acceptsEngine(engine: ComputeEngine): string {
  return engine.name;
}

test('a third-party model and engine satisfy TrainableModel and ComputeEngine', () => {
  expectTypeOf<GainModel>().toMatchTypeOf<TrainableModel>();
  expectTypeOf<PlainEngine>().toMatchTypeOf<ComputeEngine>();
  expectTypeOf(acceptsEngine).parameter(0).toEqualTypeOf<ComputeEngine>();
  expectTypeOf<ComputeEngine['lossAndGrads']>().returns.resolves.toEqualTypeOf<LossAndGradients>();
  expectTypeOf<TrainableModel['loss']>().returns.toEqualTypeOf<LossParts>();
});
