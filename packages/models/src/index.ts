export { CoreReadout } from './core-readout.js';
export type { CoreReadoutOptions, LossParts } from './core-readout.js';
export {
  buildCore,
  buildReadout,
  buildCoreReadout,
  registerCore,
  registerReadout,
  snakeToCamel,
  toOptions,
} from './registry.js';
export type { BuildContext, ConfigObject, CoreReadoutConfig } from './registry.js';
