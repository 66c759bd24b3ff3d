// The demo's state: one object, created in main.ts and passed to every panel (no module-level mutable state).
import type { Movie } from '@openretina/contracts';
import type { DirectionTuning, LayerWeights, ReadoutMasks } from '@openretina/insilico';
import type { Backends } from './backend.js';
import type { LoadedModel } from './model-loader.js';
import type { RouteState } from './route.js';
import type { DemoStimulus } from './stimuli.js';

export interface Responses {
  data: Float32Array;
  frames: number;
  neurons: number;
}

export interface DemoState {
  backends: Backends;
  /** ONNX Runtime Web or TF.js for predictions and MEIs (the toggle), and the ONNX engine of the loaded model. */
  route: RouteState;
  loaded: LoadedModel | undefined;
  session: string;
  stimulus: DemoStimulus | undefined;
  /** A movie the user opened (.npy or a video file), offered as the "your movie" stimulus. */
  userMovie: { movie: Movie; name: string } | undefined;
  naturalMovie: Movie | undefined;
  responses: Responses | undefined;
  filters: LayerWeights[];
  masks: ReadoutMasks | undefined;
  tuning: DirectionTuning | undefined;
  frame: number;
  timer: ReturnType<typeof setInterval> | undefined;
  meiAbort: AbortController | undefined;
  meiTimer: ReturnType<typeof setInterval> | undefined;
  gradientsOk: boolean;
}

export function createState(backends: Backends, route: RouteState): DemoState {
  return {
    backends,
    route,
    loaded: undefined,
    session: '',
    stimulus: undefined,
    userMovie: undefined,
    naturalMovie: undefined,
    responses: undefined,
    filters: [],
    masks: undefined,
    tuning: undefined,
    frame: 0,
    timer: undefined,
    meiAbort: undefined,
    meiTimer: undefined,
    gradientsOk: false,
  };
}

/** The loaded model (panels run only once one is loaded). */
export function currentModel(state: DemoState): LoadedModel {
  if (!state.loaded) throw new Error('no model loaded');
  return state.loaded;
}

export function neuronCount(state: DemoState): number {
  return state.loaded?.model.neuronsPerSession[state.session] ?? 0;
}
