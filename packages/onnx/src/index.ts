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
// The engine's graph builders (plans, VJP and GEMM forward graphs) stay inside: OnnxEngine is their interface.
