// The compute route of predictions and MEIs: ONNX Runtime (onnxruntime-web through @openretina/onnx's OnnxEngine)
// or TF.js (the model's own forward and gradients). The page starts on ONNX Runtime when it loads and covers the
// model, and the user can switch.
import type { ComputeEngine } from '@openretina/contracts';
import { OnnxEngine, createEngine } from '@openretina/onnx';
import type { OrtWeb } from './ort-web.js';
import type { DemoState } from './state.js';

export type Route = 'onnx' | 'tfjs';

export interface RouteState {
  /** The route the user wants (the toggle); `activeRoute` says whether it applies to the loaded model. */
  chosen: Route;
  /** onnxruntime-web, when it loaded. */
  ortWeb: OrtWeb | undefined;
  /** Why ONNX Runtime is not available (it did not load), shown next to the toggle. */
  unavailable: string | undefined;
  /** The ONNX engine of the loaded model, created on first use and disposed when another model replaces it. */
  engine: ComputeEngine | undefined;
}

export function createRouteState(ortWeb: OrtWeb | undefined, unavailable: string | undefined, request: string | null): RouteState {
  const chosen: Route = request === 'tfjs' || !ortWeb ? 'tfjs' : 'onnx';
  return { chosen, ortWeb, unavailable, engine: undefined };
}

/** Why the ONNX route cannot run the loaded model, or undefined when it can. */
export function onnxBlocker(state: DemoState): string | undefined {
  const r = state.route;
  if (!r.ortWeb) return `onnxruntime-web did not load (${r.unavailable ?? 'unknown reason'})`;
  const m = state.loaded?.model;
  if (!m) return undefined; // decided when a model is loaded
  const support = OnnxEngine.supports(m);
  return support.ok ? undefined : support.reason;
}

/** The route predictions and MEIs take now: the chosen one, TF.js when ONNX Runtime cannot run the model. */
export function activeRoute(state: DemoState): Route {
  return state.route.chosen === 'onnx' && onnxBlocker(state) === undefined ? 'onnx' : 'tfjs';
}

/** The engine of the active route: an `OnnxEngine` on onnxruntime-web, or undefined for TF.js's own path. */
export function routeEngine(state: DemoState): ComputeEngine | undefined {
  return activeRoute(state) === 'onnx' ? onnxEngine(state) : undefined;
}

/** The loaded model's `OnnxEngine` on onnxruntime-web (whatever the toggle says); throws when it cannot run. */
export function onnxEngine(state: DemoState): ComputeEngine {
  const blocker = onnxBlocker(state);
  if (blocker) throw new Error(`ONNX Runtime cannot run this model: ${blocker}.`);
  const r = state.route;
  const model = state.loaded?.model;
  if (!model) throw new Error('no model loaded');
  if (r.engine?.model !== model) {
    r.engine?.dispose();
    const web = r.ortWeb!;
    // Threads are onnxruntime-web's global setting: it runs every session on one pool of `env.wasm.numThreads` threads
    // (ort-web.ts) and ignores a session's intra-op thread count and `allow_spinning` (its workers spin ~20 ms after
    // each run with either value, so the demo no longer passes one; bench/ANALYSIS.md, round four, web).
    r.engine = createEngine(model, 'onnx', web.ort, { threads: web.threads, executionProviders: web.executionProviders });
  }
  return r.engine;
}

/** Frees the ONNX engine (its sessions and cached weights), e.g. before another model replaces the loaded one. */
export function dropEngine(state: DemoState): void {
  state.route.engine?.dispose();
  state.route.engine = undefined;
}

/** A line for the page: which route and provider compute predictions and MEIs. */
export function describeRoute(state: DemoState): string {
  const web = state.route.ortWeb;
  if (activeRoute(state) === 'onnx' && web) {
    const where = web.provider === 'webgpu' ? 'WebGPU' : `WebAssembly SIMD, ${web.threads} thread${web.threads === 1 ? '' : 's'}`;
    return `Predictions and MEIs: ONNX Runtime Web (${where})`;
  }
  const why = state.route.chosen === 'onnx' ? ` (ONNX Runtime unavailable: ${onnxBlocker(state)})` : '';
  return `Predictions and MEIs: TF.js (${state.backends.display} for predictions, ${state.backends.mei} for MEIs)${why}`;
}
