// Browser-safe entry of @openretina/onnx: ONNX export of core-readout models, ONNX inference and the ONNX Runtime
// compute engine, with the onnxruntime module passed in (`import * as ort from 'onnxruntime-web'`). Node's
// onnxruntime-node loader and file reading are in '@openretina/onnx/node'.

export type { OrtLike, OrtSessionLike, OrtTensorLike } from './ort.js';
export { exportOnnx, readOnnxInfo, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT, ONNX_META } from './onnx-export.js';
export type { ExportOnnxOptions } from './onnx-export.js';
export { OnnxResponseModel } from './onnx-model.js';
export type { OnnxModelOptions } from './onnx-model.js';
export { OnnxEngine } from './engine/onnx-engine.js';
export type { OnnxEngineOptions } from './engine/onnx-engine.js';
export { createEngine, onnxSupport } from './engine/create-engine.js';
export type { EngineChoice, CreateEngineOptions } from './engine/create-engine.js';
export { DEVICES, parseDevice, executionProvidersFor, probeDevice, checkDevice } from './engine/device.js';
export type { Device } from './engine/device.js';
// The engine's graph builders stay inside (OnnxEngine is their interface), except the training graph of one session,
// exported for profiling it with ONNX Runtime's own profiler (`pnpm bench`'s profile_train_step_onnx).
export { buildEngineGraph, enginePlan } from './engine/training-graph.js';
export type { EnginePlan } from './engine/training-graph.js';
