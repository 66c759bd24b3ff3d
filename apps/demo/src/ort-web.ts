// onnxruntime-web for the demo's ONNX route: loaded on demand (a page without it still runs on TF.js; its .wasm is
// an asset of the build, found through import.meta.url), the execution provider chosen from what the browser offers.
import type { OrtLike } from '@openretina/onnx';
import { executionProvidersFor, probeDevice } from '@openretina/onnx';

/** Where onnxruntime-web runs the graphs: WebGPU when the browser has an adapter, else WebAssembly (SIMD). */
export type OrtProvider = 'webgpu' | 'wasm';

export interface OrtWeb {
  ort: OrtLike;
  provider: OrtProvider;
  /** WebAssembly threads: the hardware concurrency when the page is cross-origin isolated, else 1. */
  threads: number;
  /** The execution providers a session is created with (the provider, then WebAssembly for what WebGPU lacks). */
  executionProviders: string[];
  notes: string[];
}

interface OrtEnv {
  env: { wasm: { numThreads?: number } };
}

/** Whether `navigator.gpu` gives an adapter (headless and older browsers have none, or no navigator.gpu at all). */
async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/**
 * Loads onnxruntime-web and picks its provider: `webgpu` when `navigator.gpu` gives an adapter and a one-node graph
 * runs on it, else `wasm` with one thread per core when the page is cross-origin isolated (threads need
 * SharedArrayBuffer; the demo's servers send COOP/COEP for that), else one thread. `request` (`?ort=` in the URL):
 * `wasm` skips WebGPU. Throws when onnxruntime-web cannot load or run at all (the caller falls back to TF.js).
 */
export async function loadOrtWeb(request: string | null): Promise<OrtWeb> {
  const adapter = request !== 'wasm' && (await hasWebGpuAdapter());
  // The WebGPU build's runtime is twice the size of the WebAssembly-only one (28 vs 14 MB to fetch and compile):
  // it is loaded only when the browser has an adapter.
  const module = (adapter ? await import('onnxruntime-web') : await import('onnxruntime-web/wasm')) as unknown as OrtEnv & OrtLike;
  const notes: string[] = [];
  const isolated = globalThis.crossOriginIsolated === true;
  const threads = isolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
  // Settings take effect when the first session is created, so they are set before any.
  module.env.wasm.numThreads = threads;
  if (!isolated) notes.push('The page is not cross-origin isolated: ONNX Runtime runs on one WebAssembly thread.');
  let provider: OrtProvider = 'wasm';
  if (adapter) {
    const probe = await probeDevice(module, 'webgpu');
    if (probe.ok) provider = 'webgpu';
    else notes.push(`WebGPU is offered but ${probe.reason}: ONNX Runtime runs on WebAssembly.`);
  }
  // onnxruntime-web registers its WebAssembly backend as `cpu` too: the engine's device names work unchanged.
  const wasm = await probeDevice(module, 'cpu');
  if (!wasm.ok) throw new Error(`onnxruntime-web: ${wasm.reason}`);
  return { ort: module, provider, threads, executionProviders: executionProvidersFor(provider === 'webgpu' ? 'webgpu' : 'cpu'), notes };
}
