import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@openretina/contracts';
import type { Module } from './module.js';
import { SpaceTimeSeparableConv3d, type SpaceTimeConvOptions } from './separable-conv.js';
import { FullConv3d, TimeIndependentConv3d, TorchSeparableConv3d } from './space-time-convs.js';

/** OpenRetina's `convolution_type` names. */
export type ConvolutionType = 'custom_separable' | 'separable' | 'full' | 'time_independent';

/** What cores need from a space-time convolution, whatever its type. */
export interface SpaceTimeConv extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  /** `[B, T, H, W, I]` → `[B, T', H', W', O]` */
  forward(x: tf.Tensor5D, options?: { session?: string }): tf.Tensor5D;
  outputShape(input: readonly [number, number, number, number]): [number, number, number, number];
  /** `[O, I, 1, kh, kw]` spatial weight, for the types that have one (custom_separable, time_independent). */
  readonly weightSpatial?: tf.Tensor | undefined;
}

type ConvConstructor = new (options: SpaceTimeConvOptions) => SpaceTimeConv;

const registry = new Map<string, ConvConstructor>([
  ['custom_separable', SpaceTimeSeparableConv3d],
  ['separable', TorchSeparableConv3d],
  ['full', FullConv3d],
  ['time_independent', TimeIndependentConv3d],
]);

/** Registers a convolution class under an OpenRetina `convolution_type` name. */
export function registerConvolutionType(name: string, ctor: ConvConstructor): void {
  registry.set(name, ctor);
}

/** Builds the convolution for an OpenRetina `convolution_type` (`get_conv_class`). */
export function createConvolution(type: string, options: SpaceTimeConvOptions): SpaceTimeConv {
  const ctor = registry.get(type);
  if (!ctor) {
    throw new ConfigError(`Unknown convolution_type "${type}". Expected one of: ${[...registry.keys()].join(', ')}.`);
  }
  return new ctor(options);
}
