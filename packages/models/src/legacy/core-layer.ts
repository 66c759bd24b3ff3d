import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm3d, Bias3d, Module, Scale3d, type SpaceTimeConv } from '@openretina/layers';
import { LegacyScale2d } from './scale2d.js';

export type Shape4 = [number, number, number, number];
/** Observes inner outputs by name (the `tap` option of the forwards). */
export type TapFn = (name: string, t: tf.Tensor5D) => void;

/** One `features.layer<i>` block of the legacy core: conv → [BatchNorm3d] → [Bias3d | Scale3d | Scale2d] → [nonlinearity]. */
export class LegacyCoreLayer extends Module {
  readonly conv: SpaceTimeConv;
  readonly norm: BatchNorm3d | undefined;
  readonly bias: Bias3d | undefined;
  readonly scale: Scale3d | LegacyScale2d | undefined;
  readonly nonlinearity: ((x: tf.Tensor) => tf.Tensor) | undefined;

  constructor(
    conv: SpaceTimeConv,
    options: {
      batchNorm: boolean;
      bias: boolean;
      batchNormScale: boolean;
      momentum: number;
      /** Hidden layers use PyTorch's Scale2DLayer (see {@link LegacyScale2d}), the first layer Scale3DLayer. */
      hidden: boolean;
      nonlinearity?: ((x: tf.Tensor) => tf.Tensor) | undefined;
    },
  ) {
    super();
    const c = conv.outChannels;
    this.conv = this.registerModule('conv', conv);
    if (options.batchNorm) {
      this.norm = this.registerModule(
        'norm',
        new BatchNorm3d(c, { momentum: options.momentum, affine: options.bias && options.batchNormScale }),
      );
      if (options.bias && !options.batchNormScale) this.bias = this.registerModule('bias', new Bias3d(c));
      if (!options.bias && options.batchNormScale)
        this.scale = this.registerModule('scale', options.hidden ? new LegacyScale2d(c) : new Scale3d(c));
    }
    this.nonlinearity = options.nonlinearity;
  }

  outputShape(input: readonly [number, number, number, number]): Shape4 {
    return this.conv.outputShape(input);
  }

  forward(x: tf.Tensor5D, options: { session?: string; tap?: TapFn } = {}): tf.Tensor5D {
    return tf.tidy(() => {
      const tap = options.tap;
      let y = this.conv.forward(x, options.session === undefined ? {} : { session: options.session });
      tap?.('conv', y);
      if (this.norm) {
        y = this.norm.forward(y);
        tap?.('norm', y);
      }
      if (this.bias) {
        y = this.bias.forward(y);
        tap?.('bias', y);
      }
      if (this.scale) {
        y = this.scale.forward(y);
        tap?.('scale', y);
      }
      if (this.nonlinearity) {
        y = this.nonlinearity(y) as tf.Tensor5D;
        tap?.('nonlin', y);
      }
      return y;
    });
  }
}

export class LegacyFeatures extends Module {
  readonly layers: LegacyCoreLayer[] = [];
  add(name: string, layer: LegacyCoreLayer): void {
    this.layers.push(this.registerModule(name, layer));
  }
}
