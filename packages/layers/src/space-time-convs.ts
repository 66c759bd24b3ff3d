import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';
import { padVideo, resolvePadding3d, type PadPair, type Padding3d } from './conv-utils.js';
import { toRng } from './random.js';
import type { SpaceTimeConvOptions } from './separable-conv.js';
import { ConvParams, conv2dTorch } from './torch-layers.js';

type Shape4 = readonly [number, number, number, number];

function checkInput(x: tf.Tensor, inChannels: number, name: string): void {
  if (x.rank !== 5 || x.shape[4] !== inChannels) {
    throw new ShapeError(`${name} expects [batch, time, height, width, ${inChannels}], got ${formatShape(x.shape)}.`);
  }
}

function tooSmall(name: string, x: tf.Tensor, kernel: readonly number[], padding: Padding3d): ShapeError {
  return new ShapeError(
    `${name}: input ${formatShape(x.shape)} is too small for a (${kernel.join(', ')}) kernel with padding ${JSON.stringify(padding)}.`,
  );
}

/** Output size of a stride-1 conv along one axis. */
function outSize(n: number, pad: PadPair, k: number): number {
  return n + pad[0] + pad[1] - k + 1;
}

/**
 * A `(1, kh, kw)` conv of channels-last video as a 2-D conv of the `[B·T, H, W, C]` frames. `pads` are the
 * resolved (t, h, w) paddings of the `(1, kh, kw)` kernel: PyTorch pads the time axis too when the padding is a
 * number or a triple, which adds frames holding only the bias.
 */
function spaceConv(x: tf.Tensor5D, conv: ConvParams, pads: readonly [PadPair, PadPair, PadPair]): tf.Tensor5D {
  const [kh, kw] = conv.kernel.slice(1) as [number, number];
  const xt = pads[0][0] || pads[0][1] ? padVideo(x, pads[0], [0, 0], [0, 0]) : x;
  const [B, T, H, W, C] = xt.shape;
  const w5 = conv.weight;
  const w4 = tf.reshape(w5, [conv.outChannels, C, kh, kw]);
  const y = conv2dTorch(tf.reshape(xt, [B * T, H, W, C]) as tf.Tensor4D, w4, conv.bias, pads[1], pads[2]);
  return tf.reshape(y, [B, T, y.shape[1], y.shape[2], conv.outChannels]) as tf.Tensor5D;
}

/**
 * A `(kt, 1, 1)` conv of channels-last video as a 2-D conv of `[B, T, H·W, C]` with a `[kt, 1, C, O]` filter (fast
 * on wasm). `pads` are the resolved (t, h, w) paddings of the `(kt, 1, 1)` kernel.
 */
function timeConv(x: tf.Tensor5D, conv: ConvParams, pads: readonly [PadPair, PadPair, PadPair]): tf.Tensor5D {
  const kt = conv.kernel[0]!;
  const xs = pads[1][0] || pads[1][1] || pads[2][0] || pads[2][1] ? padVideo(x, [0, 0], pads[1], pads[2]) : x;
  const [B, T, H, W, C] = xs.shape;
  const w4 = tf.reshape(conv.weight, [conv.outChannels, C, kt, 1]);
  const y = conv2dTorch(tf.reshape(xs, [B, T, H * W, C]) as tf.Tensor4D, w4, conv.bias, pads[0], [0, 0]);
  return tf.reshape(y, [B, y.shape[1], H, W, conv.outChannels]) as tf.Tensor5D;
}

/** The `log_speed_<session>` parameters and the `_log_speed_default` buffer shared by the torch-style convs. */
abstract class LogSpeedConv extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly temporalKernelSize: number;
  readonly spatialKernel: readonly [number, number];
  readonly padding: Padding3d;
  protected readonly logSpeeds = new Map<string, tf.Variable>();
  protected readonly logSpeedDefault: tf.Variable | undefined;

  constructor(options: SpaceTimeConvOptions, withDefaultBuffer: boolean) {
    super();
    this.inChannels = options.inChannels;
    this.outChannels = options.outChannels;
    this.temporalKernelSize = options.temporalKernelSize;
    this.spatialKernel = [options.spatialKernelSize, options.spatialKernelSize2 ?? options.spatialKernelSize];
    this.padding = options.padding ?? 0;
    // OpenRetina sets the log-speed attributes first, so they lead the state dict.
    for (const s of options.logSpeedSessions ?? []) this.logSpeeds.set(s, this.registerParameter(`log_speed_${s}`, tf.zeros([1])));
    this.logSpeedDefault = withDefaultBuffer ? this.registerBuffer('_log_speed_default', tf.zeros([1])) : undefined;
  }
}

/**
 * OpenRetina's `TorchSTSeparableConv3D` (`convolution_type: "separable"`): a spatial conv `space_conv`
 * `(1, kh, kw)` `[O, I, 1, kh, kw]` followed by a temporal conv `time_conv` `(kt, 1, 1)` `[O, O, kt, 1, 1]`, the
 * result scaled by `exp(log_speed)` of the session (the `_log_speed_default` buffer, 0, without one).
 *
 * State dict: `log_speed_<session>` `[1]`…, `_log_speed_default` `[1]`, `space_conv.weight`, `space_conv.bias`,
 * `time_conv.weight`, `time_conv.bias` (biases only with `bias: true`).
 *
 * Quirk reproduced: the same `padding` is given to both convs, so a numeric or triple padding `p` pads the time
 * axis of the spatial conv and the spatial axes of the temporal conv as well (each adds `2p` along those axes);
 * `'same'` is unaffected (a size-1 axis gets no padding).
 */
export class TorchSeparableConv3d extends LogSpeedConv {
  readonly spaceConv: ConvParams;
  readonly timeConv: ConvParams;

  constructor(options: SpaceTimeConvOptions) {
    super(options, true);
    const rng = toRng(options.seed);
    const bias = options.bias ?? false;
    const [kh, kw] = this.spatialKernel;
    this.spaceConv = this.registerModule('space_conv', new ConvParams(this.inChannels, this.outChannels, [1, kh, kw], { bias, rng }));
    this.timeConv = this.registerModule(
      'time_conv',
      new ConvParams(this.outChannels, this.outChannels, [this.temporalKernelSize, 1, 1], { bias, rng }),
    );
  }

  /** The temporal kernel `time_conv.weight` `[O, O, kt, 1, 1]` (differentiable; used by the temporal Laplace penalty). */
  get timeWeight(): tf.Variable {
    return this.timeConv.weight;
  }

  private pads(): { space: [PadPair, PadPair, PadPair]; time: [PadPair, PadPair, PadPair] } {
    const [kh, kw] = this.spatialKernel;
    return {
      space: resolvePadding3d(this.padding, [1, kh, kw]),
      time: resolvePadding3d(this.padding, [this.temporalKernelSize, 1, 1]),
    };
  }

  /** The log-speed used for a session (the default buffer when the session has none). */
  logSpeed(session?: string): tf.Variable {
    return (session !== undefined ? this.logSpeeds.get(session) : undefined) ?? this.logSpeedDefault!;
  }

  outputShape(input: Shape4): [number, number, number, number] {
    const { space, time } = this.pads();
    const [kh, kw] = this.spatialKernel;
    const s = [outSize(input[0], space[0], 1), outSize(input[1], space[1], kh), outSize(input[2], space[2], kw)] as const;
    return [outSize(s[0], time[0], this.temporalKernelSize), outSize(s[1], time[1], 1), outSize(s[2], time[2], 1), this.outChannels];
  }

  /** `x [B, T, H, W, I]` → `[B, T', H', W', O]`. */
  forward(x: tf.Tensor5D, options: { session?: string } = {}): tf.Tensor5D {
    checkInput(x, this.inChannels, 'TorchSeparableConv3d');
    const out = this.outputShape([x.shape[1], x.shape[2], x.shape[3], x.shape[4]]);
    if (out.slice(0, 3).some((n) => n < 1))
      throw tooSmall('TorchSeparableConv3d', x, [this.temporalKernelSize, ...this.spatialKernel], this.padding);
    return tf.tidy(() => {
      const { space, time } = this.pads();
      const y = timeConv(spaceConv(x, this.spaceConv, space), this.timeConv, time);
      return tf.mul(y, tf.exp(tf.reshape(this.logSpeed(options.session), []))) as tf.Tensor5D;
    });
  }
}

/**
 * OpenRetina's `TorchFullConv3D` (`convolution_type: "full"`): one dense `conv` `(kt, kh, kw)`,
 * `conv.weight [O, I, kt, kh, kw]`, `conv.bias [O]` (with `bias: true`). The log-speeds are stored but unused,
 * as in OpenRetina. State dict: `log_speed_<session>`…, `_log_speed_default`, `conv.weight`, `conv.bias`.
 */
export class FullConv3d extends LogSpeedConv {
  readonly conv: ConvParams;

  constructor(options: SpaceTimeConvOptions) {
    super(options, true);
    const rng = toRng(options.seed);
    const [kh, kw] = this.spatialKernel;
    this.conv = this.registerModule(
      'conv',
      new ConvParams(this.inChannels, this.outChannels, [this.temporalKernelSize, kh, kw], { bias: options.bias ?? false, rng }),
    );
  }

  outputShape(input: Shape4): [number, number, number, number] {
    const [kh, kw] = this.spatialKernel;
    const [pt, ph, pw] = resolvePadding3d(this.padding, [this.temporalKernelSize, kh, kw]);
    return [outSize(input[0], pt, this.temporalKernelSize), outSize(input[1], ph, kh), outSize(input[2], pw, kw), this.outChannels];
  }

  /** `x [B, T, H, W, I]` → `[B, T', H', W', O]` (a conv3d; slow on wasm for large inputs). */
  forward(x: tf.Tensor5D, _options: { session?: string } = {}): tf.Tensor5D {
    checkInput(x, this.inChannels, 'FullConv3d');
    const [kh, kw] = this.spatialKernel;
    const kernel = [this.temporalKernelSize, kh, kw] as const;
    const out = this.outputShape([x.shape[1], x.shape[2], x.shape[3], x.shape[4]]);
    if (out.slice(0, 3).some((n) => n < 1)) throw tooSmall('FullConv3d', x, kernel, this.padding);
    return tf.tidy(() => {
      const [pt, ph, pw] = resolvePadding3d(this.padding, kernel);
      const xp = padVideo(x, pt, ph, pw);
      const filter = tf.transpose(this.conv.weight, [2, 3, 4, 1, 0]) as tf.Tensor5D;
      let y: tf.Tensor5D = tf.conv3d(xp, filter, 1, 'valid');
      if (this.conv.bias) y = tf.add(y, this.conv.bias);
      return y;
    });
  }
}

/**
 * OpenRetina's `TimeIndependentConv3D` (`convolution_type: "time_independent"`): a spatial-only `conv`
 * `(1, kh, kw)`, `conv.weight [O, I, 1, kh, kw]`, `conv.bias`. State dict: `log_speed_<session>`…, `conv.weight`,
 * `conv.bias` (no `_log_speed_default`, as in OpenRetina). A numeric padding also pads the time axis (PyTorch
 * pads every axis of a Conv3d), adding frames that hold only the bias.
 */
export class TimeIndependentConv3d extends LogSpeedConv {
  readonly conv: ConvParams;
  private detached: tf.Variable | undefined;

  constructor(options: SpaceTimeConvOptions) {
    super(options, false);
    const rng = toRng(options.seed);
    const [kh, kw] = this.spatialKernel;
    this.conv = this.registerModule(
      'conv',
      new ConvParams(this.inChannels, this.outChannels, [1, kh, kw], { bias: options.bias ?? false, rng }),
    );
  }

  /**
   * The spatial weight `[O, I, 1, kh, kw]`, **detached** as OpenRetina's `weight_spatial` (`conv.weight.data`):
   * penalties computed from it give the weight no gradient. It is a non-trainable variable owned by this module
   * (do not dispose it), refreshed with the current weight on every access.
   */
  get weightSpatial(): tf.Variable {
    if (!this.detached) this.detached = tf.variable(this.conv.weight, false);
    else this.detached.assign(this.conv.weight);
    return this.detached;
  }

  outputShape(input: Shape4): [number, number, number, number] {
    const [kh, kw] = this.spatialKernel;
    const [pt, ph, pw] = resolvePadding3d(this.padding, [1, kh, kw]);
    return [outSize(input[0], pt, 1), outSize(input[1], ph, kh), outSize(input[2], pw, kw), this.outChannels];
  }

  /** `x [B, T, H, W, I]` → `[B, T', H', W', O]`. */
  forward(x: tf.Tensor5D, _options: { session?: string } = {}): tf.Tensor5D {
    checkInput(x, this.inChannels, 'TimeIndependentConv3d');
    const out = this.outputShape([x.shape[1], x.shape[2], x.shape[3], x.shape[4]]);
    if (out.slice(0, 3).some((n) => n < 1)) throw tooSmall('TimeIndependentConv3d', x, [1, ...this.spatialKernel], this.padding);
    return tf.tidy(() => spaceConv(x, this.conv, resolvePadding3d(this.padding, [1, ...this.spatialKernel])));
  }

  override dispose(): void {
    this.detached?.dispose();
    this.detached = undefined;
    super.dispose();
  }
}
