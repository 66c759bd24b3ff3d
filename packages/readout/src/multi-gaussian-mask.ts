import type { Rng } from '@openretina/layers';
import { GaussianMaskReadout, type Nonlinearity } from './gaussian-mask.js';
import { MultiReadoutBase } from './multi-readout.js';
import type { ReadoutInShape } from './readout-base.js';

export interface MultiGaussianMaskReadoutOptions {
  inShape: ReadoutInShape;
  nNeuronsDict: Readonly<Record<string, number>>;
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  scale?: boolean;
  bias?: boolean;
  gaussianMeanScale?: number;
  gaussianVarScale?: number;
  positive?: boolean;
  maskL1Reg?: number;
  featureWeightsL1Reg?: number;
  readoutRegAvg?: boolean;
  nonlinearity?: Nonlinearity;
  seed?: number | Rng;
}

/** One `GaussianMaskReadout` per session (OpenRetina's `MultiGaussianMaskReadout`, the default readout). */
export class MultiGaussianMaskReadout extends MultiReadoutBase<GaussianMaskReadout> {
  constructor(options: MultiGaussianMaskReadoutOptions) {
    super(options, ({ inShape, outDims, meanActivity, seed }) => {
      return new GaussianMaskReadout({
        inShape,
        outDims,
        meanActivity,
        seed,
        ...(options.gaussianMeanScale === undefined ? {} : { gaussianMeanScale: options.gaussianMeanScale }),
        ...(options.gaussianVarScale === undefined ? {} : { gaussianVarScale: options.gaussianVarScale }),
        ...(options.positive === undefined ? {} : { positive: options.positive }),
        ...(options.scale === undefined ? {} : { scale: options.scale }),
        ...(options.bias === undefined ? {} : { bias: options.bias }),
        ...(options.maskL1Reg === undefined ? {} : { maskL1Reg: options.maskL1Reg }),
        ...(options.featureWeightsL1Reg === undefined ? {} : { featureWeightsL1Reg: options.featureWeightsL1Reg }),
        ...(options.nonlinearity === undefined ? {} : { nonlinearity: options.nonlinearity }),
      });
    });
  }
}
