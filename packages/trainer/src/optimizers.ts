// The optimizers (one per file under optimizers/): PyTorch's AdamW and SGD over named variables, and gradient clipping.
export { Optimizer } from './optimizers/optimizer.js';
export type { NamedGrads, OptimizerStateDict, ParamState } from './optimizers/optimizer.js';
export { AdamW } from './optimizers/adamw.js';
export type { AdamWOptions } from './optimizers/adamw.js';
export { SGD } from './optimizers/sgd.js';
export type { SGDOptions } from './optimizers/sgd.js';
export { clipGradNorm } from './optimizers/clip-grad-norm.js';
export type { ClipResult } from './optimizers/clip-grad-norm.js';
