import { readFile } from 'node:fs/promises';
import { OnnxResponseModel, type OnnxModelOptions } from '../onnx-model.js';
import { loadOptionalPeer } from '../optional-peer.js';
import type { OrtLike } from '../ort.js';

let ortPromise: Promise<OrtLike> | undefined;

/**
 * onnxruntime-node (an optional peer dependency), loaded on first use, so importing '@openretina/onnx/node' loads
 * no native runtime. Without it installed: a `BackendError` saying `npm i onnxruntime-node`.
 */
export async function loadOnnxRuntimeNode(): Promise<OrtLike> {
  ortPromise ??= loadOptionalPeer<OrtLike>('onnxruntime-node', () => import('onnxruntime-node'), 'ONNX Runtime in Node').catch(
    (error: unknown) => {
      ortPromise = undefined;
      throw error;
    },
  );
  return ortPromise;
}

/** Opens an ONNX file or bytes with onnxruntime-node (CPU by default; pass `executionProviders: ['cuda', 'cpu']` for CUDA). */
export async function loadOnnxModel(source: string | Uint8Array, options: OnnxModelOptions = {}): Promise<OnnxResponseModel> {
  const bytes = typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
  return OnnxResponseModel.create(await loadOnnxRuntimeNode(), bytes, options);
}
