export { SimpleCoreWrapper } from './simple-core.js';
export type { SimpleCoreOptions, CorePadding } from './simple-core.js';
export { CoreLayer } from './core-layer.js';
export { DummyCore } from './dummy-core.js';
export { ConvGRUCore, ConditionedGRUCore, GRUCoreLayer, GRUCoreProjection } from './gru-core.js';
export type { ConvGRUCoreOptions, ConditionedGRUCoreOptions, GruOptions } from './gru-core.js';
