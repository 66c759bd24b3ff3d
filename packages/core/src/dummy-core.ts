import * as tf from '@tensorflow/tfjs-core';
import { SPECIFICATION_VERSION, ShapeError, formatShape, type Core } from '@openretina/contracts';
import { Module } from '@openretina/layers';

/** A pass-through core (OpenRetina's `DummyCore`), used by readout-only models such as the LNP model. */
export class DummyCore extends Module implements Core {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly cutFirstNFrames: number;

  constructor(
    readonly inChannels: number,
    options: { cutFirstNFrames?: number | null } = {},
  ) {
    super();
    this.cutFirstNFrames = options.cutFirstNFrames ?? 0;
  }

  get outChannels(): number {
    return this.inChannels;
  }

  get framesCut(): number {
    return this.cutFirstNFrames;
  }

  outputShape(s: readonly [number, number, number, number]): [number, number, number, number] {
    return [Math.max(0, s[0] - this.cutFirstNFrames), s[1], s[2], s[3]];
  }

  forward(x: tf.Tensor5D): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new ShapeError(`DummyCore expects [batch, time, height, width, ${this.inChannels}], got ${formatShape(x.shape)}.`);
    }
    const cut = this.cutFirstNFrames;
    if (!cut) return tf.clone(x);
    return tf.tidy(() => {
      const [b, t, h, w, c] = x.shape;
      return tf.reshape(tf.slice(tf.reshape(x, [b, t, h * w * c]), [0, cut, 0], [b, t - cut, h * w * c]), [
        b,
        t - cut,
        h,
        w,
        c,
      ]) as tf.Tensor5D;
    });
  }

  regularizer(): tf.Scalar {
    return tf.scalar(0);
  }
}
