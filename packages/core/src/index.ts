export { SimpleCoreWrapper } from './simple-core.js';
export type { SimpleCoreOptions, CorePadding } from './simple-core.js';
export { CoreLayer } from './core-layer.js';
export { DummyCore } from './dummy-core.js';
export { ConvGRUCore } from './gru/conv-gru-core.js';
export { ConditionedGRUCore } from './gru/conditioned-gru-core.js';
export type { ConditionedGRUCoreOptions } from './gru/conditioned-gru-core.js';
export { GRUCoreLayer, GRUCoreProjection } from './gru/blocks.js';
export type { ConvGRUCoreOptions, GruOptions } from './gru/options.js';
