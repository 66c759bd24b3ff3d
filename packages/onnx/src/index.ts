// Browser-safe entry of @openretina/onnx: ONNX export of core-readout models, ONNX inference and the ONNX Runtime
// compute engine, with the onnxruntime module passed in (`import * as ort from 'onnxruntime-web'`). Node's
// onnxruntime-node loader and file reading are in '@openretina/onnx/node'.

export type { OrtLike, OrtSessionLike, OrtTensorLike } from './ort.js';
export { exportOnnx } from './export/export-onnx.js';
export { readOnnxInfo } from './export/read-onnx-info.js';
export { ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT } from './export/options.js';
export type { ExportOnnxOptions } from './export/options.js';
export { ONNX_META } from './export/metadata.js';
export { OnnxResponseModel } from './onnx-model.js';
export type { OnnxModelOptions } from './onnx-model.js';
export { OnnxEngine } from './engine/onnx-engine.js';
export type { OnnxEngineOptions } from './engine/onnx-engine.js';
export { createEngine, onnxSupport } from './engine/create-engine.js';
export type { EngineChoice, CreateEngineOptions } from './engine/create-engine.js';
export { DEVICES, parseDevice, executionProvidersFor, probeDevice, checkDevice } from './engine/device.js';
export type { Device } from './engine/device.js';
// The engine's graph builders stay inside (OnnxEngine is their interface); the training graph of one session, for
// profiling, is in '@openretina/onnx/internal' (no semver promise).
