import { readFile } from 'node:fs/promises';
import { OnnxResponseModel, type OnnxModelOptions } from '../onnx-model.js';
import { loadOptionalPeer } from '../optional-peer.js';
import type { OrtLike } from '../ort.js';

let ortPromise: Promise<OrtLike> | undefined;

/**
 * onnxruntime-node's Linux and macOS builds (1.29 and later) send usage telemetry by default: session and model
 * metadata, uploaded in the background, with a device id and an event cache written under the home folder and an
 * empty `mat-debug-<pid>.log` in the temporary folder. Its opt-out is the environment variable
 * `ORT_DISABLE_TELEMETRY`, read once, when the runtime creates its first session. A library should not make its
 * users' processes report to a third party unasked, so the loader opts out unless the variable is already set (set it
 * to `0` before the first load to keep ONNX Runtime's default).
 */
function optOutOfOrtTelemetry(): void {
  if (process.env.ORT_DISABLE_TELEMETRY === undefined) process.env.ORT_DISABLE_TELEMETRY = '1';
}

/**
 * onnxruntime-node (an optional peer dependency), loaded on first use, so importing '@openretina/onnx/node' loads
 * no native runtime. Without it installed: a `BackendError` saying `npm i onnxruntime-node`. ONNX Runtime's
 * telemetry is turned off unless `ORT_DISABLE_TELEMETRY` is set (see the package README).
 */
export async function loadOnnxRuntimeNode(): Promise<OrtLike> {
  optOutOfOrtTelemetry();
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
