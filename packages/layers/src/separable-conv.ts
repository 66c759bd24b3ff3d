import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';
import { padVideo, resolvePadding3d, temporalDepthwise, type Padding3d } from './conv-utils.js';
import { toRng, type Rng } from './random.js';

/** Options shared by the space-time convolutions. */
export interface SpaceTimeConvOptions {
  inChannels: number;
  outChannels: number;
  temporalKernelSize: number;
  spatialKernelSize: number;
  /** Second spatial size (width); defaults to `spatialKernelSize`. */
  spatialKernelSize2?: number;
  padding?: Padding3d;
  bias?: boolean;
  /** Session keys that get their own learnable log-speed (`log_speed_<session>`), as OpenRetina's `log_speed_dict`. */
  logSpeedSessions?: readonly string[];
  /**
   * The space-time separable convolution's `subsampling_factor` (default 3): its sin/cos basis has
   * `⌊temporalKernelSize / subsamplingFactor⌋` frequencies, so the factor may not exceed the temporal kernel size.
   * The other convolution types have no such basis and ignore it.
   */
  subsamplingFactor?: number;
  seed?: number | Rng;
}

/**
 * The sin/cos temporal basis `[K, L]` of OpenRetina's space-time separable convolution, as tensors so that the
 * stretch (`exp(logSpeed)`) stays differentiable. Index 0 is the oldest frame of the window.
 */
export function temporalBasis(logSpeed: tf.Tensor, length: number, numFreqs: number): { sines: tf.Tensor2D; cosines: tf.Tensor2D } {
  return tf.tidy(() => {
    const stretch = tf.exp(tf.reshape(logSpeed, []));
    const time = tf.sub(tf.range(0, length, 1, 'float32'), length); // −L … −1
    const freq = tf.mul(tf.mul(stretch, time), (2 * Math.PI) / length);
    const offset = tf.div(Math.trunc(length * 0.95), stretch);
    // 1 / (1 + exp(−time − ⌊0.95·L⌋/stretch)), a soft onset over the oldest frames.
    const mask = tf.sigmoid(tf.add(time, offset));
    const k = tf.reshape(tf.range(0, numFreqs, 1, 'float32'), [numFreqs, 1]);
    const phase = tf.mul(k, tf.reshape(freq, [1, length]));
    return {
      sines: tf.mul(tf.sin(phase), mask) as tf.Tensor2D,
      cosines: tf.mul(tf.cos(phase), mask) as tf.Tensor2D,
    };
  });
}

/**
 * OpenRetina's `STSeparableBatchConv3d` ("custom_separable"): a temporal kernel built from a smooth sin/cos
 * basis times a spatial kernel. State-dict entries: `sin_weights`, `cos_weights` `[O, I, K]` (K = L // subsampling
 * factor, 3 by default),
 * `weight_spatial` `[O, I, 1, kh, kw]`, optional `bias` `[O]`, `_log_speed_default` `[1]`, and
 * `log_speed_<session>` `[1]` per session.
 *
 * The forward never builds the dense `[O, I, L, kh, kw]` kernel: because each (out, in) kernel is rank 1, it runs
 * a depthwise spatial conv (channel multiplier O), a depthwise temporal conv and a sum over input channels,
 * which is exact and several times cheaper than the composed conv3d.
 */
export class SpaceTimeSeparableConv3d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly temporalKernelSize: number;
  readonly spatialKernel: readonly [number, number];
  /** OpenRetina's `subsampling_factor`: the basis has `⌊L / factor⌋` frequencies. */
  readonly subsamplingFactor: number;
  readonly numFreqs: number;
  readonly padding: Padding3d;
  readonly sinWeights: tf.Variable;
  readonly cosWeights: tf.Variable;
  readonly weightSpatial: tf.Variable;
  readonly bias: tf.Variable | undefined;
  private readonly logSpeedDefault: tf.Variable;
  private readonly logSpeeds = new Map<string, tf.Variable>();

  constructor(options: SpaceTimeConvOptions) {
    super();
    const rng = toRng(options.seed);
    const { inChannels: I, outChannels: O, temporalKernelSize: L } = options;
    const kh = options.spatialKernelSize;
    const kw = options.spatialKernelSize2 ?? kh;
    const factor = options.subsamplingFactor ?? 3;
    if (!Number.isInteger(factor) || factor < 1) {
      throw new ConfigError(`subsamplingFactor must be a positive integer, got ${JSON.stringify(options.subsamplingFactor)}.`);
    }
    if (!Number.isInteger(L) || L < factor) {
      throw new ConfigError(
        `temporal kernel size ${L} is smaller than the subsampling factor ${factor} of the sin/cos basis (OpenRetina raises too); use a subsamplingFactor of at most ${L}.`,
      );
    }
    const K = Math.floor(L / factor);
    this.inChannels = I;
    this.outChannels = O;
    this.temporalKernelSize = L;
    this.spatialKernel = [kh, kw];
    this.subsamplingFactor = factor;
    this.numFreqs = K;
    this.padding = options.padding ?? 0;
    this.sinWeights = this.registerParameter('sin_weights', rng.randn([O, I, K], 0.01));
    this.cosWeights = this.registerParameter('cos_weights', rng.randn([O, I, K], 0.01));
    this.weightSpatial = this.registerParameter('weight_spatial', rng.randn([O, I, 1, kh, kw], 0.01));
    this.bias = options.bias ? this.registerParameter('bias', tf.zeros([O])) : undefined;
    this.logSpeedDefault = this.registerBuffer('_log_speed_default', tf.zeros([1]));
    for (const s of options.logSpeedSessions ?? []) this.logSpeeds.set(s, this.registerParameter(`log_speed_${s}`, tf.zeros([1])));
  }

  /** The log-speed used for a session (the default buffer, 0, when the session has none). */
  logSpeed(session?: string): tf.Variable {
    return (session !== undefined ? this.logSpeeds.get(session) : undefined) ?? this.logSpeedDefault;
  }

  /** The temporal kernel `[O, I, L]` (OpenRetina's `weight_temporal` without the trailing 1×1). */
  temporalKernel(session?: string): tf.Tensor3D {
    return tf.tidy(() => {
      const { sines, cosines } = temporalBasis(this.logSpeed(session), this.temporalKernelSize, this.numFreqs);
      const O = this.outChannels;
      const I = this.inChannels;
      const K = this.numFreqs;
      const wt = tf.add(
        tf.matMul(tf.reshape(this.sinWeights, [O * I, K]), sines),
        tf.matMul(tf.reshape(this.cosWeights, [O * I, K]), cosines),
      );
      return tf.reshape(wt, [O, I, this.temporalKernelSize]);
    });
  }

  /** The dense kernel `[O, I, L, kh, kw]` in PyTorch layout (for inspection and tests; forward does not use it). */
  composedKernel(session?: string): tf.Tensor5D {
    return tf.tidy(() => {
      const [O, I, L] = [this.outChannels, this.inChannels, this.temporalKernelSize];
      const [kh, kw] = this.spatialKernel;
      const wt = tf.reshape(this.temporalKernel(session), [O, I, L, 1, 1]);
      return tf.mul(wt, tf.reshape(this.weightSpatial, [O, I, 1, kh, kw])) as tf.Tensor5D;
    });
  }

  outputShape(input: readonly [number, number, number, number]): [number, number, number, number] {
    const [pt, ph, pw] = resolvePadding3d(this.padding, [this.temporalKernelSize, ...this.spatialKernel]);
    return [
      input[0] + pt[0] + pt[1] - this.temporalKernelSize + 1,
      input[1] + ph[0] + ph[1] - this.spatialKernel[0] + 1,
      input[2] + pw[0] + pw[1] - this.spatialKernel[1] + 1,
      this.outChannels,
    ];
  }

  /** `x [B, T, H, W, I]` → `[B, T', H', W', O]`. */
  forward(x: tf.Tensor5D, options: { session?: string } = {}): tf.Tensor5D {
    if (x.rank !== 5 || x.shape[4] !== this.inChannels) {
      throw new ShapeError(
        `SpaceTimeSeparableConv3d expects [batch, time, height, width, ${this.inChannels}], got ${formatShape(x.shape)}.`,
      );
    }
    return tf.tidy(() => {
      const [O, I, L] = [this.outChannels, this.inChannels, this.temporalKernelSize];
      const [kh, kw] = this.spatialKernel;
      const [pt, ph, pw] = resolvePadding3d(this.padding, [L, kh, kw]);
      const xp = padVideo(x, pt, ph, pw);
      const [B, T, H, W] = xp.shape;
      const [T2, H2, W2] = [T - L + 1, H - kh + 1, W - kw + 1];
      if (T2 < 1 || H2 < 1 || W2 < 1) {
        throw new ShapeError(
          `Input ${formatShape(x.shape)} is too small for a (${L}, ${kh}, ${kw}) kernel with padding ${JSON.stringify(this.padding)}.`,
        );
      }
      // Spatial depthwise: channel i·O + o holds input channel i filtered by weight_spatial[o, i].
      const fs = tf.transpose(tf.reshape(this.weightSpatial, [O, I, kh, kw]), [2, 3, 1, 0]) as tf.Tensor4D;
      const s = tf.depthwiseConv2d(tf.reshape(xp, [B * T, H, W, I]) as tf.Tensor4D, fs, 1, 'valid');
      // Temporal depthwise on the same i·O + o channels.
      const ft = tf.reshape(tf.transpose(this.temporalKernel(options.session), [2, 1, 0]), [L, 1, I * O, 1]) as tf.Tensor4D;
      const st = temporalDepthwise(tf.reshape(s, [B, T, H2 * W2, I * O]) as tf.Tensor4D, ft);
      // Sum over input channels.
      let y: tf.Tensor = I === 1 ? st : tf.sum(tf.reshape(st, [B * T2 * H2 * W2, I, O]), 1);
      if (this.bias) y = tf.add(tf.reshape(y, [-1, O]), this.bias);
      return tf.reshape(y, [B, T2, H2, W2, O]) as tf.Tensor5D;
    });
  }
}
