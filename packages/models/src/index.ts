export { CoreReadout } from './core-readout.js';
export type { CoreReadoutOptions, LossParts } from './core-readout.js';
