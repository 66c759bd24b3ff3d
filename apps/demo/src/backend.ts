import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@openretina/backend';

export interface Backends {
  /** Backend for predictions and views: webgl where a GPU draws the browser's WebGL, else the MEI backend. */
  display: string;
  /** Backend for MEIs and self-tests: wasm with @openretina/backend's corrected gradient kernels, else cpu. */
  mei: string;
  webgl: boolean;
  notes: string[];
}

/** The page's WebGL renderer, and whether it draws in software (no GPU: slower than wasm); null without WebGL. */
export function webGlRenderer(): { name: string; software: boolean } | null {
  try {
    const c = document.createElement('canvas');
    const gl = (c.getContext('webgl2') ?? c.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return { name, software: /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name) };
  } catch {
    return null;
  }
}

/**
 * Sets up the backends. The MEI needs input gradients that @openretina/backend has checked against finite
 * differences, i.e. its wasm kernels (or TF.js' cpu backend); webgl is used for predictions only, where the GPU draws
 * it (a software renderer such as SwiftShader is slower than wasm). TF.js's webgl backend is its own chunk, loaded
 * only then. `request` ('webgl' | 'wasm' | 'cpu', from the URL's ?backend=) restricts the choice; 'webgl' takes even
 * a software renderer.
 */
export async function setUpBackends(request: string | null): Promise<Backends> {
  const notes: string[] = [];
  // The wasm binaries are copied next to the page (vite.config.ts): resolve them relative to it.
  setWasmPaths(new URL('wasm/', document.baseURI).href);
  // The page is cross-origin isolated (for ONNX Runtime's threads), where TF.js's wasm backend would pick its
  // threaded build, whose workers fail in this bundle ("e is not defined" in the worker blob): TF.js keeps its
  // single-threaded SIMD build, as before the isolation.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  let mei = 'cpu';
  if (request !== 'cpu') {
    try {
      const info = await initBackend('wasm');
      mei = info.name;
    } catch (e) {
      notes.push(`WebAssembly backend unavailable (${e instanceof Error ? e.message : String(e)}): MEIs run on the slower cpu backend.`);
    }
  }
  if (mei === 'cpu') await initBackend('cpu');
  let display = mei;
  let webgl = false;
  if (request === null || request === 'webgl') {
    const renderer = webGlRenderer();
    if (!renderer) {
      notes.push(`This browser has no WebGL: predictions run on ${mei} instead (slower, same results).`);
    } else if (renderer.software && request !== 'webgl') {
      notes.push(
        `This browser draws WebGL in software (${renderer.name}), which is slower than ${mei}: predictions run on ${mei} (?backend=webgl uses WebGL anyway).`,
      );
    } else {
      try {
        await import('@tensorflow/tfjs-backend-webgl'); // registers the 'webgl' backend
        webgl = await tf.setBackend('webgl');
        if (webgl) {
          await tf.ready();
          tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
          display = 'webgl';
        } else notes.push(`WebGL failed to initialise: predictions run on ${mei} instead.`);
      } catch (e) {
        webgl = false;
        notes.push(`WebGL failed (${e instanceof Error ? e.message : String(e)}): predictions run on ${mei} instead.`);
        await tf.setBackend(mei);
      }
    }
  }
  if (!webgl) await tf.setBackend(mei);
  return { display, mei, webgl, notes };
}

/** Runs `fn` on `backend` and switches back afterwards (tensors move between backends on use). */
export async function onBackend<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  if (previous === backend) return fn();
  await tf.setBackend(backend);
  try {
    return await fn();
  } finally {
    await tf.setBackend(previous);
  }
}
