import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import { CoreLayer, SimpleCoreWrapper } from '@openretina/core';
import { SpaceTimeSeparableConv3d, resolvePadding3d } from '@openretina/layers';
import type { CoreReadout } from '@openretina/models';
import { GaussianMaskReadout } from '@openretina/readout';

/*
 * What the kernels compute with, read from a model: the shapes of each layer (its plan) and the eval weights (temporal
 * kernels from their sine/cosine basis, BatchNorm folded into a per-channel scale and shift, the readout's Gaussian
 * masks × features × scale as one dense matrix). Plain arrays: the TF.js tensors are read once and let go.
 */

/** The readout nonlinearities the predictor applies (those of `@openretina/readout`, except custom functions). */
export type ReadoutNonlinearity = 'softplus' | 'identity' | 'exp' | 'relu' | 'elu';
const NONLINEARITIES: readonly string[] = ['softplus', 'identity', 'exp', 'relu', 'elu'];

/** One conv → BatchNorm → bias → ELU block. */
export interface LayerWeights {
  readonly I: number;
  readonly O: number;
  /** Temporal kernel length and spatial kernel size. */
  readonly L: number;
  readonly kh: number;
  readonly kw: number;
  /** Zero padding (front, back) in time, rows and columns. */
  readonly pt: readonly [number, number];
  readonly ph: readonly [number, number];
  readonly pw: readonly [number, number];
  /** `[O, I, L]`. */
  readonly temporal: Float32Array;
  /** `[O, I, kh, kw]`. */
  readonly spatial: Float32Array;
  /** Eval BatchNorm, conv bias and the bias after it, as `v·scale + shift` per output channel. */
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

export interface ReadoutWeights {
  readonly N: number;
  /** `[N, c·Q]`, column `ch·Q + q` for channel `ch` at output position `q` (row-major `h, w`). */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly nonlinearity: ReadoutNonlinearity;
}

export interface EvalWeights {
  /** Stimulus channels and frame size. */
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly layers: readonly LayerWeights[];
  /** Output frames the core drops at the start (after the convolutions' own). */
  readonly cut: number;
  readonly readout: ReadoutWeights;
}

/** Copies a tensor's values (a backend may hand out a view of memory it reuses). */
function valuesOf(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

function coreLayers(model: CoreReadout): CoreLayer[] {
  const core = model.core;
  if (!(core instanceof SimpleCoreWrapper)) {
    throw new UnsupportedError(`The WebAssembly predictor supports SimpleCoreWrapper cores only (got ${core.constructor.name}).`);
  }
  if (core.colorSquashing) throw new UnsupportedError('The WebAssembly predictor does not cover colour squashing.');
  if (core.options.downsampleInputKernelSize) throw new UnsupportedError('The WebAssembly predictor does not cover input down-sampling.');
  const layers = core.features.layers;
  for (const [l, layer] of layers.entries()) {
    if (!(layer instanceof CoreLayer) || !(layer.conv instanceof SpaceTimeSeparableConv3d)) {
      const what = layer instanceof CoreLayer ? layer.conv.constructor.name : (layer as object).constructor.name;
      throw new UnsupportedError(`The WebAssembly predictor supports the custom_separable convolution only (layer ${l} is ${what}).`);
    }
    if (layer.pool) throw new UnsupportedError(`The WebAssembly predictor does not cover max-pooling (layer ${l}).`);
    if (layer.conv.outChannels % 4 !== 0) {
      throw new UnsupportedError(
        `The WebAssembly predictor needs a multiple of 4 channels per layer (layer ${l} has ${layer.conv.outChannels}).`,
      );
    }
  }
  return layers;
}

function maskReadout(model: CoreReadout, session: string): GaussianMaskReadout {
  model.readout.numNeurons(session); // unknown session → the readout's own error, naming the sessions it has
  const multi = model.readout;
  // the contract's per-session readout, whoever implements the multi-readout (not only our MultiReadoutBase)
  if (!multi.readout) {
    throw new UnsupportedError(
      `The WebAssembly predictor needs a readout per session (MultiReadout.readout); ${multi.constructor.name} has none.`,
    );
  }
  const readout = multi.readout(session);
  if (!(readout instanceof GaussianMaskReadout)) {
    const what = readout ? readout.constructor.name : multi.constructor.name;
    throw new UnsupportedError(`The WebAssembly predictor supports Gaussian-mask readouts only (got ${what}).`);
  }
  if (typeof readout.nonlinearity !== 'string' || !NONLINEARITIES.includes(readout.nonlinearity)) {
    throw new UnsupportedError(`The WebAssembly predictor does not cover a custom readout nonlinearity (session ${session}).`);
  }
  return readout;
}

/** Throws an `UnsupportedError` naming what the kernels do not cover in `model` (or `session`'s readout). */
export function checkSupported(model: CoreReadout, session?: string): void {
  coreLayers(model);
  for (const s of session === undefined ? model.sessions : [session]) maskReadout(model, s);
}

function layerWeights(layer: CoreLayer): LayerWeights {
  const conv = layer.conv as SpaceTimeSeparableConv3d;
  const { inChannels: I, outChannels: O, temporalKernelSize: L } = conv;
  const [kh, kw] = conv.spatialKernel;
  const [pt, ph, pw] = resolvePadding3d(conv.padding, [L, kh, kw]);
  // Like CoreReadout.forward, the core runs without a session (the default log-speed).
  const temporal = tf.tidy(() => valuesOf(conv.temporalKernel()));
  const spatial = valuesOf(conv.weightSpatial);
  // the kernels compute the bias-free product: the convolution's bias, BatchNorm and the block's bias come after it
  const affine = layer.evalAffine();
  if (!affine) throw new UnsupportedError('The WebAssembly predictor needs BatchNorm running statistics (eval mode).');
  const { scale, shift } = affine;
  return { I, O, L, kh, kw, pt, ph, pw, temporal, spatial, scale, shift };
}

function readoutWeights(readout: GaussianMaskReadout): ReadoutWeights {
  return {
    N: readout.outDims,
    weights: readout.denseWeight(),
    bias: valuesOf(readout.bias),
    nonlinearity: readout.nonlinearity as ReadoutNonlinearity,
  };
}

/** The eval weights of `model` for `session` (see {@link EvalWeights}); throws `UnsupportedError` for other models. */
export function evalWeights(model: CoreReadout, session: string): EvalWeights {
  const layers = coreLayers(model).map(layerWeights);
  const readout = maskReadout(model, session);
  model.checkReadoutInput(session);
  const { channels: C, height: H, width: W } = model.stimulus;
  const core = model.core as SimpleCoreWrapper;
  return { C, H, W, layers, cut: core.cutFirstNFrames, readout: readoutWeights(readout) };
}
