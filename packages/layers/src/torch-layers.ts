import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { Module } from './module.js';
import type { PadPair } from './conv-utils.js';
import { xavierNormal, type Rng } from './random.js';

/**
 * How a torch-style weight is initialised: `'torch'` is PyTorch's default for `nn.Conv*d` / `nn.Linear`
 * (kaiming-uniform with a = √5, i.e. U(±1/√fan_in) for the weight and the bias); `'xavier'` is xavier-normal
 * weights and zero bias (OpenRetina's `init_conv`).
 */
export type TorchInit = 'torch' | 'xavier';

function fanIn(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * The parameters of a PyTorch `nn.Conv2d` / `nn.Conv3d`: `weight [O, I/groups, ...kernel]` and optional
 * `bias [O]`, in PyTorch layout. Forward code lives in the layer that owns it (channels-last convs need the
 * filter transposed).
 */
export class ConvParams extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;
  readonly outChannels: number;
  readonly inChannels: number;
  readonly groups: number;
  readonly kernel: readonly number[];

  constructor(
    inChannels: number,
    outChannels: number,
    kernel: readonly number[],
    options: { bias?: boolean; groups?: number; init?: TorchInit; rng: Rng },
  ) {
    super();
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ConfigError(`groups = ${groups} must divide both in_channels (${inChannels}) and out_channels (${outChannels}).`);
    }
    if (kernel.some((k) => !Number.isInteger(k) || k < 1)) throw new ConfigError(`Invalid kernel size ${JSON.stringify(kernel)}.`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    this.kernel = [...kernel];
    const shape = [outChannels, inChannels / groups, ...kernel];
    const init = options.init ?? 'torch';
    const bound = 1 / Math.sqrt(fanIn(shape));
    this.weight = this.registerParameter(
      'weight',
      init === 'xavier' ? xavierNormal(options.rng, shape) : options.rng.rand(shape, -bound, bound),
    );
    this.bias =
      (options.bias ?? true)
        ? this.registerParameter('bias', init === 'xavier' ? tf.zeros([outChannels]) : options.rng.rand([outChannels], -bound, bound))
        : undefined;
  }
}

/**
 * A channels-last 2-D convolution with PyTorch-layout parameters: `x [N, H, W, I]`, `weight [O, I/g, kh, kw]`,
 * explicit zero padding `[top, bottom]`, `[left, right]`, stride 1. Grouped convolutions run one conv per group.
 */
export function conv2dTorch(
  x: tf.Tensor4D,
  weight: tf.Tensor,
  bias: tf.Tensor | undefined,
  padH: PadPair,
  padW: PadPair,
  groups = 1,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [O, Ig, kh, kw] = weight.shape as [number, number, number, number];
    if (x.shape[3] !== Ig * groups) {
      throw new ShapeError(
        `conv2d with weight ${formatShape(weight.shape)} and ${groups} group(s) expects ${Ig * groups} input channels, got ${formatShape(x.shape)}.`,
      );
    }
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [padH[0], padH[1]],
      [padW[0], padW[1]],
      [0, 0],
    ];
    const filter = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D; // [kh, kw, I/g, O]
    let y: tf.Tensor4D;
    if (groups === 1) {
      y = tf.conv2d(x, filter, 1, pad);
    } else {
      const Og = O / groups;
      const parts: tf.Tensor4D[] = [];
      for (let g = 0; g < groups; g++) {
        const xg = tf.slice(x, [0, 0, 0, g * Ig], [-1, -1, -1, Ig]);
        const fg = tf.slice(filter, [0, 0, 0, g * Og], [kh, kw, Ig, Og]);
        parts.push(tf.conv2d(xg, fg, 1, pad));
      }
      y = tf.concat(parts, 3);
    }
    return bias ? tf.add(y, bias) : y;
  });
}

/** PyTorch's `nn.Linear`: `weight [out, in]`, `bias [out]`; `forward(x [..., in]) → [..., out]`. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; rng: Rng },
  ) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter('weight', options.rng.rand([outFeatures, inFeatures], -bound, bound));
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', options.rng.rand([outFeatures], -bound, bound)) : undefined;
  }

  /** Overwrites the parameters (used by modules with their own initialisation). */
  reset(weight: tf.Tensor, bias?: tf.Tensor): void {
    tf.tidy(() => {
      this.weight.assign(weight);
      if (bias && this.bias) this.bias.assign(bias);
    });
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ShapeError(
        `Linear(${this.inFeatures}, ${this.outFeatures}) expects [..., ${this.inFeatures}], got ${formatShape(x.shape)}.`,
      );
    }
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      let y: tf.Tensor = tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.weight, false, true);
      if (this.bias) y = tf.add(y, this.bias);
      return tf.reshape(y, [...lead, this.outFeatures]);
    });
  }
}
