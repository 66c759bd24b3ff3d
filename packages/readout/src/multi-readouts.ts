import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@openretina/layers';
import { ClonedReadout } from './cloned.js';
import { FactorizedReadout, type FactorizedMaskConstraint, type FactorizedWeightsConstraint, type TensorInit } from './factorized.js';
import { applyNonlinearity, type Nonlinearity } from './gaussian-mask.js';
import { LNPReadout, type LnpNonlinearity } from './lnp.js';
import { MultiReadoutBase } from './multi-readout.js';
import type { GridMeanPredictorOptions } from './grid-mean-predictor.js';
import {
  PointGaussianReadout,
  type GaussType,
  type PointGaussianForwardOptions,
  type SharedFeaturesOptions,
  type SharedGridOptions,
} from './point-gaussian.js';
import type { ReadoutInShape } from './readout-base.js';

interface MultiCommon {
  inShape: ReadoutInShape;
  nNeuronsDict: Readonly<Record<string, number>>;
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  readoutRegAvg?: boolean;
  /** OpenRetina's `clone_readout` (see `MultiReadoutOptions.cloneReadout`). */
  cloneReadout?: boolean;
  seed?: number | Rng;
}

const cloneOf = (source: ReadoutBase0): ClonedReadout => new ClonedReadout(source);
type ReadoutBase0 = ConstructorParameters<typeof ClonedReadout>[0];

/** Drops undefined values so optional options pass through under exactOptionalPropertyTypes. */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export interface MultiFactorizedReadoutOptions extends MultiCommon {
  maskL1Reg: number;
  weightsL1Reg: number;
  laplaceMaskReg: number;
  readoutBias?: boolean;
  weightsConstraint?: FactorizedWeightsConstraint | null;
  maskConstraint?: FactorizedMaskConstraint | null;
  initMask?: TensorInit | null;
  initWeights?: TensorInit | null;
  initScales?: readonly (readonly [number, number])[] | null;
}

/** One `FactorizedReadout` per session, mask size = the core output's `(h, w)` (OpenRetina's `MultiFactorizedReadout`). */
export class MultiFactorizedReadout extends MultiReadoutBase<FactorizedReadout | ClonedReadout> {
  constructor(options: MultiFactorizedReadoutOptions) {
    super(
      options,
      ({ inShape, outDims, meanActivity, seed }) =>
        new FactorizedReadout({
          inShape,
          outDims,
          meanActivity,
          seed,
          maskSize: [inShape[2], inShape[3]],
          maskL1Reg: options.maskL1Reg,
          weightsL1Reg: options.weightsL1Reg,
          laplaceMaskReg: options.laplaceMaskReg,
          ...defined({
            readoutBias: options.readoutBias,
            weightsConstraint: options.weightsConstraint,
            maskConstraint: options.maskConstraint,
            initMask: options.initMask,
            initWeights: options.initWeights,
            initScales: options.initScales,
          }),
        }),
      cloneOf,
    );
  }
}

export interface MultiSampledGaussianReadoutOptions extends MultiCommon {
  bias?: boolean;
  initMuRange?: number;
  initSigmaRange?: number;
  batchSample?: boolean;
  alignCorners?: boolean;
  gaussType?: GaussType;
  /** `gamma`: weight of the feature L1 penalty. */
  gamma?: number;
  /** OpenRetina's `reg_avg` (same as `readoutRegAvg`). */
  regAvg?: boolean;
  /** Applied after each session's point readout (bias included); softplus by default. */
  nonlinearity?: Nonlinearity;
  /** Given to every session's readout, as OpenRetina does (so `matchIds` must fit each session's neuron count). */
  sharedFeatures?: SharedFeaturesOptions | null;
  /** Given to every session's readout, as OpenRetina does. */
  sharedGrid?: SharedGridOptions | null;
  /** Given to every session's readout with that session's entry of `sourceGrids`. */
  gridMeanPredictor?: GridMeanPredictorOptions | null;
  /**
   * Per session, the `source_grid` of its grid-mean predictor (`[N][d]`). OpenRetina's multi readout has no such
   * argument, so its grid-mean predictor cannot be built there.
   */
  sourceGrids?: Readonly<Record<string, readonly (readonly number[])[]>> | null;
}

/**
 * One `PointGaussianReadout` per session followed by a nonlinearity (softplus), OpenRetina's
 * `MultiSampledGaussianReadout`: the core output is flattened to (batch·time) samples, so in training every
 * (sample, time) pair gets its own random location; the mean-activity bias sits inside the nonlinearity.
 */
export class MultiSampledGaussianReadout extends MultiReadoutBase<PointGaussianReadout | ClonedReadout> {
  readonly nonlinearity: Nonlinearity;

  constructor(options: MultiSampledGaussianReadoutOptions) {
    super(
      { ...options, readoutRegAvg: options.readoutRegAvg ?? options.regAvg ?? false },
      ({ session, inShape, outDims, meanActivity, seed }) =>
        new PointGaussianReadout({
          inShape,
          outDims,
          meanActivity,
          seed,
          ...defined({
            sharedFeatures: options.sharedFeatures,
            sharedGrid: options.sharedGrid,
            gridMeanPredictor: options.gridMeanPredictor,
            sourceGrid: options.sourceGrids?.[session],
            bias: options.bias,
            initMuRange: options.initMuRange,
            initSigmaRange: options.initSigmaRange,
            batchSample: options.batchSample,
            alignCorners: options.alignCorners,
            gaussType: options.gaussType,
            gammaReadout: options.gamma,
          }),
        }),
      cloneOf,
    );
    this.nonlinearity = options.nonlinearity ?? 'softplus';
  }

  /** `[B, T, h, w, c]` → `[B, T, N]` for one session, or all sessions concatenated in sorted order. */
  forward(features: tf.Tensor5D, options: { session?: string } & PointGaussianForwardOptions = {}): tf.Tensor3D {
    const { session, ...pointOptions } = options;
    const one = (key: string): tf.Tensor3D => {
      const r = this.readout(key);
      const y = r instanceof PointGaussianReadout ? r.forward(features, pointOptions) : r.forward(features);
      const out = tf.tidy(() => applyNonlinearity(this.nonlinearity, y) as tf.Tensor3D);
      if (out !== y) y.dispose();
      return out;
    };
    if (session !== undefined) return one(session);
    const parts = this.sessions.map(one);
    const out = tf.concat(parts, -1);
    for (const p of parts) p.dispose();
    return out;
  }
}

export interface MultipleLNPReadoutOptions extends MultiCommon {
  smoothWeight?: number;
  sparseWeight?: number;
  smoothRegularizer?: 'LaplaceL2norm' | 'GaussianLaplaceL2';
  laplacePadding?: number | null;
  nonlinearity?: LnpNonlinearity;
  bias?: boolean;
}

/** One `LNPReadout` per session (OpenRetina's `MultipleLNPReadout`). */
export class MultipleLNPReadout extends MultiReadoutBase<LNPReadout | ClonedReadout> {
  constructor(options: MultipleLNPReadoutOptions) {
    super(
      options,
      ({ inShape, outDims, meanActivity, seed }) =>
        new LNPReadout({
          inShape,
          outDims,
          meanActivity,
          seed,
          ...defined({
            smoothWeight: options.smoothWeight,
            sparseWeight: options.sparseWeight,
            smoothRegularizer: options.smoothRegularizer,
            laplacePadding: options.laplacePadding,
            nonlinearity: options.nonlinearity,
            bias: options.bias,
          }),
        }),
      cloneOf,
    );
  }
}
