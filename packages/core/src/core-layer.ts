import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm3d, Bias3d, Module, type Rng, type SpaceTimeConv, SpaceTimeSeparableConv3d } from '@openretina/layers';

/**
 * One block of `SimpleCoreWrapper` (`features.layer<i>`): conv → BatchNorm3d → Bias3d → ELU → [Dropout3d] → [MaxPool (1,2,2)].
 */
export class CoreLayer extends Module {
  readonly conv: SpaceTimeConv;
  readonly norm: BatchNorm3d;
  readonly bias: Bias3d;
  readonly dropoutRate: number;
  readonly pool: boolean;
  private readonly rng: Rng;

  constructor(conv: SpaceTimeConv, options: { dropoutRate: number; pool: boolean; rng: Rng }) {
    super();
    this.conv = this.registerModule('conv', conv);
    this.norm = this.registerModule('norm', new BatchNorm3d(conv.outChannels, { momentum: 0.1, affine: true }));
    this.bias = this.registerModule('bias', new Bias3d(conv.outChannels));
    this.dropoutRate = options.dropoutRate;
    this.pool = options.pool;
    this.rng = this.registerRng('dropout', options.rng);
  }

  outputShape(input: readonly [number, number, number, number]): [number, number, number, number] {
    const [t, h, w, c] = this.conv.outputShape(input);
    return this.pool ? [t, Math.floor(h / 2), Math.floor(w / 2), c] : [t, h, w, c];
  }

  /**
   * The block's eval mode up to its ELU as one affine map per channel, `z·scale + shift`, for code that folds it into
   * its own weights: `z` is the convolution's product before the bias a `SpaceTimeSeparableConv3d` adds (the whole
   * output of other convolution types), so `scale` and `shift` hold that bias, BatchNorm with its running statistics
   * and the block's bias. `undefined` when the BatchNorm keeps no running statistics.
   */
  evalAffine(): { scale: Float32Array; shift: Float32Array } | undefined {
    const affine = this.norm.evalAffine();
    if (!affine) return undefined;
    const { scale, shift } = affine;
    const after = this.bias.bias.dataSync();
    const convBias = this.conv instanceof SpaceTimeSeparableConv3d ? this.conv.bias?.dataSync() : undefined;
    for (let c = 0; c < shift.length; c++) shift[c] = shift[c]! + (convBias ? convBias[c]! * scale[c]! : 0) + after[c]!;
    return affine;
  }

  /** Runs the block; `tap` receives named intermediate outputs (for inner-neuron objectives and parity tests). */
  forward(x: tf.Tensor5D, options: { session?: string; tap?: (name: string, t: tf.Tensor5D) => void } = {}): tf.Tensor5D {
    return tf.tidy(() => {
      const convOut = this.conv.forward(x, options.session === undefined ? {} : { session: options.session });
      options.tap?.('conv', convOut);
      const bnOut = this.norm.forward(convOut);
      options.tap?.('norm', bnOut);
      let y = tf.elu(this.bias.forward(bnOut)) as tf.Tensor5D;
      options.tap?.('nonlin', y);
      if (this.dropoutRate > 0 && this.training) y = dropout3d(y, this.dropoutRate, this.rng);
      if (this.pool) {
        const [b, t, h, w, c] = y.shape;
        const p = tf.maxPool(tf.reshape(y, [b * t, h, w, c]) as tf.Tensor4D, 2, 2, 'valid');
        y = tf.reshape(p, [b, t, p.shape[1], p.shape[2], c]) as tf.Tensor5D;
        options.tap?.('pool', y);
      }
      return y;
    });
  }
}

/** PyTorch's Dropout3d on channels-last video: zeroes whole channels per sample, scales the rest by 1/(1−p). */
export function dropout3d(x: tf.Tensor5D, p: number, rng: Rng): tf.Tensor5D {
  return tf.tidy(() => {
    const [b, , , , c] = x.shape;
    const keep = new Float32Array(b * c);
    for (let i = 0; i < keep.length; i++) keep[i] = rng.uniform() >= p ? 1 / (1 - p) : 0;
    return tf.mul(x, tf.tensor(keep, [b, 1, 1, 1, c])) as tf.Tensor5D;
  });
}
