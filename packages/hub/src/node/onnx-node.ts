import { readFile } from 'node:fs/promises';
import { BackendError } from '@openretina/contracts';
import { OnnxResponseModel, type OnnxModelOptions, type OrtLike } from '../onnx-model.js';

let ortPromise: Promise<OrtLike> | undefined;

/** onnxruntime-node, loaded on first use (so importing '@openretina/hub/node' does not load the native runtime). */
export async function loadOnnxRuntimeNode(): Promise<OrtLike> {
  ortPromise ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: OrtLike }).default ?? m) as OrtLike,
    (cause: unknown) => {
      ortPromise = undefined;
      throw new BackendError(`onnxruntime-node could not be loaded: ${(cause as Error).message}`, { cause });
    },
  );
  return ortPromise;
}

/** Opens an ONNX file or bytes with onnxruntime-node (CPU by default; pass `executionProviders: ['cuda', 'cpu']` for CUDA). */
export async function loadOnnxModel(source: string | Uint8Array, options: OnnxModelOptions = {}): Promise<OnnxResponseModel> {
  const bytes = typeof source === 'string' ? new Uint8Array(await readFile(source)) : source;
  return OnnxResponseModel.create(await loadOnnxRuntimeNode(), bytes, options);
}
