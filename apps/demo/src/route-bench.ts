// Every route side by side on the loaded model, for the route-parity test (apps/demo/test/routes-e2e.test.ts) and
// the browser benchmark (bench/browser.mjs), which call them through `window.openretinaDemo`.
import type { Movie } from '@openretina/contracts';
import { predictResponses } from './analysis.js';
import { onBackend } from './backend.js';
import { createMeiRun } from './mei.js';
import { kernelsBlocker, onnxBlocker, onnxEngine, predictorOn, type Route } from './route.js';
import { naturalLikeMovie, naturalMovieFor } from './stimuli.js';
import { currentModel, type DemoState } from './state.js';

/** `frames` frames of the bundled natural movie (a synthetic natural-like movie for models of another frame size). */
function benchMovie(state: DemoState, frames: number): Movie {
  const spec = currentModel(state).model.stimulus;
  const movie = naturalMovieFor(state.naturalMovie, spec) ?? naturalLikeMovie(spec, Math.ceil(frames / 30) + 1);
  const [t, h, w, c] = movie.shape;
  if (t < frames) throw new Error(`the movie has ${t} frames, fewer than the ${frames} asked for`);
  return { data: movie.data.subarray(0, frames * h * w * c), shape: [frames, h, w, c] };
}

/** The responses `[T_out, N]` (row-major, as a plain array) of the current session to `frames` frames, on `route`. */
export async function predictOnRoute(
  state: DemoState,
  route: Route,
  frames: number,
): Promise<{ data: number[]; frames: number; neurons: number }> {
  const { model } = currentModel(state);
  const r = await predictResponses(model, benchMovie(state, frames), state.session, await predictorOn(state, route));
  return { data: Array.from(r.data), frames: r.frames, neurons: r.neurons };
}

/** The untimed pause after each timed run (see `timeRoutes`). */
const SETTLE_MS = 50;

export interface RouteTimings {
  /** Median ms of a prediction of `frames` frames (one session, batch 1), as the responses panel computes it. */
  predict_ms: number;
  /** Median ms of one MEI iteration (default preset), as the MEI panel runs it. */
  mei_iteration_ms: number;
}

function median(ts: number[]): number {
  const sorted = [...ts].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Medians after warm-up of every route that can run the loaded model: predictions on TF.js, ONNX Runtime and the
 * kernels, MEI iterations on TF.js and ONNX Runtime (the kernels route takes its MEIs to ONNX Runtime). The routes
 * take turns run by run, so that all see the same load of a busy machine.
 */
export async function timeRoutes(
  state: DemoState,
  { frames = 150, runs = 7, warmup = 2 }: { frames?: number; runs?: number; warmup?: number },
): Promise<{
  tfjs: RouteTimings;
  onnx: RouteTimings | undefined;
  onnxUnavailable: string | undefined;
  kernels: { predict_ms: number } | undefined;
  kernelsUnavailable: string | undefined;
}> {
  const { model } = currentModel(state);
  const blocker = onnxBlocker(state);
  const kernelsBlocked = kernelsBlocker(state);
  const routes: Route[] = ['tfjs', ...(blocker ? [] : (['onnx'] as const)), ...(kernelsBlocked ? [] : (['kernels'] as const))];
  const predictors = new Map(await Promise.all(routes.map(async (r) => [r, await predictorOn(state, r)] as const)));
  const movie = benchMovie(state, frames);
  const times = new Map(routes.map((r) => [r, { predict: [] as number[], mei: [] as number[] }]));
  // ONNX Runtime Web's worker threads keep spinning for a while after each of its runs (bench/ANALYSIS.md, round four,
  // web) and take the cores the next route needs (the kernels' 1-thread prediction: 6.0–6.3 ms 50 ms after an ONNX
  // Runtime run, 8.1–9.6 ms right after it, bench/ANALYSIS.md, round ten). A pause after every run lets each route start on an idle machine, as a
  // user's next click does; it is not timed.
  const timed = async (fn: () => Promise<unknown>, into: number[] | undefined) => {
    const t0 = performance.now();
    await fn();
    into?.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  };
  for (let i = 0; i < warmup + runs; i++)
    for (const r of routes)
      await timed(() => predictResponses(model, movie, state.session, predictors.get(r)), i < warmup ? undefined : times.get(r)!.predict);
  // The MEI runs on the MEI backend, as the panel does (ONNX Runtime computes the model's gradient on its route).
  const meiRoutes = routes.filter((r) => r !== 'kernels');
  await onBackend(state.backends.mei, async () => {
    const meis = meiRoutes.map((r) => {
      const engine = r === 'onnx' ? onnxEngine(state) : undefined;
      return createMeiRun(model, { session: state.session, neuron: 0, preset: 'default', ...(engine ? { engine } : {}) });
    });
    try {
      for (let i = 0; i < warmup + runs; i++)
        for (const [k, r] of meiRoutes.entries()) await timed(() => meis[k]!.step(), i < warmup ? undefined : times.get(r)!.mei);
    } finally {
      for (const m of meis) m.dispose();
    }
  });
  const of = (r: Route): RouteTimings => ({ predict_ms: median(times.get(r)!.predict), mei_iteration_ms: median(times.get(r)!.mei) });
  return {
    tfjs: of('tfjs'),
    onnx: blocker ? undefined : of('onnx'),
    onnxUnavailable: blocker,
    kernels: kernelsBlocked ? undefined : { predict_ms: median(times.get('kernels')!.predict) },
    kernelsUnavailable: kernelsBlocked,
  };
}

/** The objectives and the final stimulus of `steps` MEI iterations (default preset, fixed seed) on `route`. */
export async function meiOnRoute(
  state: DemoState,
  route: Route,
  neuron: number,
  steps: number,
): Promise<{ objectives: number[]; stimulus: number[] }> {
  const { model } = currentModel(state);
  // the kernels route computes its MEIs on ONNX Runtime
  const engine = route === 'tfjs' ? undefined : onnxEngine(state);
  return onBackend(state.backends.mei, async () => {
    const run = createMeiRun(model, { session: state.session, neuron, preset: 'default', seed: 7, ...(engine ? { engine } : {}) });
    try {
      const objectives: number[] = [];
      for (let i = 0; i < steps; i++) objectives.push((await run.step()).objective);
      return { objectives, stimulus: Array.from((await run.stimulus.data()) as Float32Array) };
    } finally {
      run.dispose();
    }
  });
}
