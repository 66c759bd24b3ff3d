// '@openretina/onnx/internal': the engine's graph builders, for profiling one training step with ONNX Runtime's own
// profiler (`pnpm bench`'s profile_train_step_onnx). No semver promise: these follow the engine's internals and may
// change in any release; `OnnxEngine` is their supported interface.
export { buildEngineGraph, enginePlan } from './engine/training-graph.js';
export type { EnginePlan } from './engine/training-graph.js';
