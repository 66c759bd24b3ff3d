// The compute route of predictions and MEIs:
// - `kernels`: predictions on @openretina/wasm-predictor's SIMD WebAssembly kernels, MEIs on ONNX Runtime Web (or on
//   TF.js when onnxruntime-web did not load);
// - `onnx`: both on ONNX Runtime (onnxruntime-web through @openretina/onnx's OnnxEngine);
// - `tfjs`: both on TF.js (the model's own forward and gradients).
// The page starts on the first route that covers the loaded model, in that order, and the user can switch.
import type { ComputeEngine } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { OnnxEngine, createEngine } from '@openretina/onnx';
import { WasmPredictor } from '@openretina/wasm-predictor';
import type { Predictor } from './analysis.js';
import type { OrtWeb } from './ort-web.js';
import type { DemoState } from './state.js';

export type Route = 'kernels' | 'onnx' | 'tfjs';

export interface RouteState {
  /** The route the user wants (the toggle); `activeRoute` says whether it applies to the loaded model. */
  chosen: Route;
  /** onnxruntime-web, when it loaded. */
  ortWeb: OrtWeb | undefined;
  /** Why ONNX Runtime is not available (it did not load), shown next to the toggle. */
  unavailable: string | undefined;
  /** The ONNX engine of the loaded model, created on first use and disposed when another model replaces it. */
  engine: ComputeEngine | undefined;
  /** The kernels' predictor of the loaded model (compiled on first use), disposed with the engine. */
  predictor: { model: CoreReadout; ready: Promise<WasmPredictor> } | undefined;
}

export function createRouteState(ortWeb: OrtWeb | undefined, unavailable: string | undefined, request: string | null): RouteState {
  const chosen: Route = request === 'tfjs' ? 'tfjs' : request === 'onnx' && ortWeb ? 'onnx' : 'kernels';
  return { chosen, ortWeb, unavailable, engine: undefined, predictor: undefined };
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

/** Why the kernels cannot predict for the loaded model in this browser (no WebAssembly SIMD), or undefined when they can. */
export function kernelsBlocker(state: DemoState): string | undefined {
  const m = state.loaded?.model;
  if (!m) return undefined;
  const support = WasmPredictor.supports(m);
  return support.ok ? undefined : support.reason;
}

/** The route predictions take now: the chosen one, else the next that covers the model (kernels → ONNX → TF.js). */
export function activeRoute(state: DemoState): Route {
  const chosen = state.route.chosen;
  if (chosen === 'kernels' && kernelsBlocker(state) === undefined) return 'kernels';
  if (chosen !== 'tfjs' && onnxBlocker(state) === undefined) return 'onnx';
  return 'tfjs';
}

/** The engine of MEIs and gradients: an `OnnxEngine` on onnxruntime-web (routes `kernels` and `onnx`), or undefined for TF.js. */
export function routeEngine(state: DemoState): ComputeEngine | undefined {
  return activeRoute(state) !== 'tfjs' && onnxBlocker(state) === undefined ? onnxEngine(state) : undefined;
}

/** What computes predictions on the active route (undefined: TF.js's own forward). */
export async function routePredictor(state: DemoState): Promise<Predictor | undefined> {
  return predictorOn(state, activeRoute(state));
}

/** What computes predictions on `route` (whatever the toggle says); throws when the route cannot run the model. */
export async function predictorOn(state: DemoState, route: Route): Promise<Predictor | undefined> {
  if (route === 'kernels') return kernelPredictor(state);
  return route === 'onnx' ? onnxEngine(state) : undefined;
}

/** The loaded model's predictor on the kernels; throws when they cannot run it. */
export function kernelPredictor(state: DemoState): Promise<WasmPredictor> {
  const blocker = kernelsBlocker(state);
  if (blocker) throw new Error(`The WebAssembly kernels cannot run this model: ${blocker}.`);
  const model = state.loaded?.model;
  if (!model) throw new Error('no model loaded');
  const r = state.route;
  if (r.predictor?.model !== model) {
    disposePredictor(r);
    r.predictor = { model, ready: WasmPredictor.create(model) };
  }
  return r.predictor.ready;
}

/** Stops the kernels' predictor once it is made (nothing to stop when making it failed). */
function disposePredictor(r: RouteState): void {
  void r.predictor?.ready.then((p) => p.dispose()).catch(() => undefined);
  r.predictor = undefined;
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

/** Frees the ONNX engine and the kernels' predictor, e.g. before another model replaces the loaded one. */
export function dropEngine(state: DemoState): void {
  state.route.engine?.dispose();
  state.route.engine = undefined;
  disposePredictor(state.route);
}

function onnxWhere(web: OrtWeb): string {
  return web.provider === 'webgpu' ? 'WebGPU' : `WebAssembly SIMD, ${web.threads} thread${web.threads === 1 ? '' : 's'}`;
}

/** A line for the page: which route and provider compute predictions and MEIs. */
export function describeRoute(state: DemoState): string {
  const web = state.route.ortWeb;
  const route = activeRoute(state);
  const tfjs = `TF.js (${state.backends.mei})`;
  if (route === 'kernels') {
    const meis = onnxBlocker(state) === undefined && web ? `ONNX Runtime Web (${onnxWhere(web)})` : tfjs;
    return `Predictions: WebAssembly SIMD kernels (@openretina/wasm-predictor); MEIs: ${meis}`;
  }
  if (route === 'onnx' && web) {
    const why = state.route.chosen === 'kernels' ? ` (the kernels cannot run this model: ${kernelsBlocker(state)})` : '';
    return `Predictions and MEIs: ONNX Runtime Web (${onnxWhere(web)})${why}`;
  }
  const why = state.route.chosen === 'tfjs' ? '' : ` (ONNX Runtime unavailable: ${onnxBlocker(state)})`;
  return `Predictions and MEIs: TF.js (${state.backends.display} for predictions, ${state.backends.mei} for MEIs)${why}`;
}
