import * as tf from '@tensorflow/tfjs-core';
import { SPECIFICATION_VERSION, type DifferentiableResponseModel } from '@openretina/contracts';

/**
 * A response model whose responses are its input: stimulus `[B, T, 1, 1, N]` → responses `[B, T, N]`, optionally
 * squared (to make gradients depend on the stimulus). Hand-made cases are easy to compute with it.
 */
export class IdentityModel implements DifferentiableResponseModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly sessions = ['a'];
  readonly neuronsPerSession: Record<string, number>;
  readonly stimulus;
  readonly framesCut = 0;

  constructor(
    readonly n: number,
    readonly square = false,
  ) {
    this.neuronsPerSession = { a: n };
    this.stimulus = { channels: n, height: 1, width: 1 };
  }

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return [batch, frames, 1, 1, this.n];
  }

  forward(x: tf.Tensor5D): tf.Tensor3D {
    return tf.tidy(() => {
      const r = tf.reshape(x, [x.shape[0], x.shape[1], this.n]) as tf.Tensor3D;
      return this.square ? (tf.square(r) as tf.Tensor3D) : r;
    });
  }

  async predict(x: tf.Tensor5D): Promise<tf.Tensor3D> {
    return this.forward(x);
  }

  dispose(): void {}
}
