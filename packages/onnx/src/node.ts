// Node entry of @openretina/onnx: everything of the browser-safe entry plus onnxruntime-node (an optional peer,
// loaded on first use) and ONNX files from disk.
export * from './index.js';
export { loadOnnxModel, loadOnnxRuntimeNode } from './node/onnx-node.js';
