export { ReadoutBase, reduceBy } from './readout-base.js';
export type { ReadoutInShape } from './readout-base.js';
export { GaussianMaskReadout, makeMaskGrid, applyNonlinearity } from './gaussian-mask.js';
export type { GaussianMaskReadoutOptions, Nonlinearity } from './gaussian-mask.js';
export { MultiReadoutBase } from './multi-readout.js';
export type { MultiReadoutOptions, ReadoutFactory } from './multi-readout.js';
export { MultiGaussianMaskReadout } from './multi-gaussian-mask.js';
export type { MultiGaussianMaskReadoutOptions } from './multi-gaussian-mask.js';
