import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm3d, Bias3d, type GRUModule, Module, Scale3d, type SpaceTimeConv } from '@openretina/layers';

/*
 * The blocks a conv-GRU core stacks in its `features` container: a conv block, the optional 1×1×1 projection, and the
 * container that keeps them in PyTorch's order (the state-dict keys follow it).
 */

export type Shape4 = [number, number, number, number];
export type SessionOption = { session?: string };

/** One `features.layer<i>` block: conv → [BatchNorm3d] → [Bias3d | Scale3d] → [nonlinearity]. */
export class GRUCoreLayer extends Module {
  readonly conv: SpaceTimeConv;
  readonly norm: BatchNorm3d | undefined;
  readonly bias: Bias3d | undefined;
  readonly scale: Scale3d | undefined;
  readonly nonlinearity: ((x: tf.Tensor) => tf.Tensor) | undefined;

  constructor(
    conv: SpaceTimeConv,
    options: { batchNorm: boolean; bias: boolean; batchNormScale: boolean; momentum: number; nonlinearity?: (x: tf.Tensor) => tf.Tensor },
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
      if (!options.bias && options.batchNormScale) this.scale = this.registerModule('scale', new Scale3d(c));
    }
    this.nonlinearity = options.nonlinearity;
  }

  outputShape(input: readonly [number, number, number, number]): Shape4 {
    return this.conv.outputShape(input);
  }

  forward(x: tf.Tensor5D, options: SessionOption = {}): tf.Tensor5D {
    return tf.tidy(() => {
      let y = this.conv.forward(x, options);
      if (this.norm) y = this.norm.forward(y);
      if (this.bias) y = this.bias.forward(y);
      if (this.scale) y = this.scale.forward(y);
      if (this.nonlinearity) y = this.nonlinearity(y) as tf.Tensor5D;
      return y;
    });
  }
}

/** `features.projection`: a 1×1×1 full convolution (`0`) followed by the nonlinearity. */
export class GRUCoreProjection extends Module {
  readonly conv: SpaceTimeConv;
  constructor(
    conv: SpaceTimeConv,
    readonly nonlinearity: (x: tf.Tensor) => tf.Tensor,
  ) {
    super();
    this.conv = this.registerModule('0', conv);
  }
  outputShape(input: readonly [number, number, number, number]): Shape4 {
    return this.conv.outputShape(input);
  }
  forward(x: tf.Tensor5D, options: SessionOption = {}): tf.Tensor5D {
    return tf.tidy(() => this.nonlinearity(this.conv.forward(x, options)) as tf.Tensor5D);
  }
}

/** The ordered `features` container: `layer0`, [`projection`], `layer1`, …, [`gru`]. */
export class GRUCoreFeatures extends Module {
  readonly blocks: { name: string; module: GRUCoreLayer | GRUCoreProjection | GRUModule }[] = [];
  add<M extends GRUCoreLayer | GRUCoreProjection | GRUModule>(name: string, module: M): M {
    this.registerModule(name, module);
    this.blocks.push({ name, module });
    return module;
  }
}
