// The demo's wiring: creates the state, connects the controls to the panels (src/panels/*), loads the first model
// (`?model=<checkpoint folder URL>`, e.g. from a training report, else the bundled one) and runs the self-test.
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy, toFloat32 } from '@openretina/formats';
import { predictResponses } from './analysis.js';
import { setUpBackends } from './backend.js';
import { BUNDLED_MODEL } from './bundled-model.js';
import { $, busy, clearErrors, describeError, message } from './dom.js';
import { loadBundled, loadFromFiles, loadFromUrl, type LoadedModel } from './model-loader.js';
import { loadOrtWeb, type OrtWeb } from './ort-web.js';
import { loadFilters, renderFilters } from './panels/filters-panel.js';
import { fillPresets, runMei, syncCap } from './panels/mei-panel.js';
import { readChosenFiles, renderModelInfo } from './panels/model-panel.js';
import { loadReadout, renderReadout } from './panels/readout-panel.js';
import { renderResponses, setResponseCursor } from './panels/responses-panel.js';
import { runSelfTest } from './panels/selftest-panel.js';
import {
  chosenStimulus,
  fillStimulusChoices,
  forgetUserMovie,
  openUserMovie,
  showFrame,
  stopPlayback,
  togglePlayback,
} from './panels/stimulus-panel.js';
import { computeTuning, renderTuning } from './panels/tuning-panel.js';
import {
  activeRoute,
  createRouteState,
  describeRoute,
  dropEngine,
  kernelsBlocker,
  onnxBlocker,
  routePredictor,
  type Route,
} from './route.js';
import { meiOnRoute, predictOnRoute, timeRoutes } from './route-bench.js';
import { createState, neuronCount, type DemoState } from './state.js';

async function useModel(state: DemoState, loaded: LoadedModel): Promise<void> {
  stopPlayback(state);
  state.meiAbort?.abort();
  dropEngine(state);
  state.loaded?.model.dispose();
  state.loaded = loaded;
  forgetUserMovie(state);
  const m = loaded.model;
  state.session = m.sessions.includes('session_2') ? 'session_2' : m.sessions[0]!;
  renderModelInfo(state);
  renderRoute(state);
  await loadFilters(state);
  renderFilters(state);
  await sessionChanged(state);
}

async function sessionChanged(state: DemoState): Promise<void> {
  const n = neuronCount(state);
  const meiNeuron = $<HTMLInputElement>('mei-neuron');
  meiNeuron.max = String(n - 1);
  if (Number(meiNeuron.value) >= n) meiNeuron.value = '0';
  await loadReadout(state);
  renderReadout(state);
  await computeTuning(state);
  renderTuning(state);
  await stimulusChanged(state);
}

async function stimulusChanged(state: DemoState): Promise<void> {
  stopPlayback(state);
  const m = state.loaded?.model;
  if (!m) return;
  state.stimulus = chosenStimulus(state);
  $<HTMLInputElement>('frame-slider').max = String(state.stimulus.movie.shape[0] - 1);
  state.frame = 0;
  state.responses = await predictResponses(m, state.stimulus.movie, state.session, await routePredictor(state));
  renderResponses(state);
  showFrame(state, 0, setResponseCursor);
}

async function loadNaturalMovie(state: DemoState): Promise<void> {
  if (!BUNDLED_MODEL.naturalMovie) return;
  try {
    const res = await fetch(new URL(BUNDLED_MODEL.naturalMovie, document.baseURI));
    const npy = parseNpy(new Uint8Array(await res.arrayBuffer()));
    const [t, h, w, c] = npy.shape as [number, number, number, number];
    state.naturalMovie = { data: toFloat32(npy.data), shape: [t, h, w, c] };
  } catch (e) {
    message(`The bundled natural movie could not be loaded (${describeError(e).text}); using the synthetic one.`, 'note');
  }
}

function bundled(): Promise<LoadedModel> {
  return loadBundled(new URL(BUNDLED_MODEL.folder, document.baseURI).href, BUNDLED_MODEL.label);
}

/** Model files or a checkpoint folder chosen by the user. */
async function onModelFiles(state: DemoState, input: HTMLInputElement): Promise<void> {
  const named = await readChosenFiles(input);
  if (named.length === 0) return;
  clearErrors();
  input.dataset.state = 'loading';
  const ok = await busy('Loading failed', async () => {
    const loaded = await loadFromFiles(named);
    await useModel(state, loaded);
    message(`Loaded ${loaded.name}.`, 'note');
    return true;
  });
  input.dataset.state = ok ? 'loaded' : 'error';
  input.value = '';
}

async function onMovieFile(state: DemoState, input: HTMLInputElement): Promise<void> {
  const file = input.files?.[0];
  if (!file) return;
  clearErrors();
  input.dataset.state = 'loading';
  const ok = await busy('Opening the movie failed', async () => {
    await openUserMovie(state, file);
    await stimulusChanged(state);
    return true;
  });
  input.dataset.state = ok ? 'loaded' : 'error';
  input.value = '';
}

/** Shows the active route and provider (the text, and data-* attributes for tests and the benchmark). */
function renderRoute(state: DemoState): void {
  const box = $('route-status');
  box.textContent = describeRoute(state);
  const web = state.route.ortWeb;
  Object.assign(box.dataset, {
    route: activeRoute(state),
    chosen: state.route.chosen,
    provider: activeRoute(state) === 'kernels' ? 'wasm-simd' : activeRoute(state) === 'onnx' ? web!.provider : state.backends.display,
    threads: String(web?.threads ?? 0),
    isolated: String(globalThis.crossOriginIsolated === true),
  });
  const select = $<HTMLSelectElement>('route');
  select.value = state.route.chosen;
  const onnxOption = select.querySelector<HTMLOptionElement>('option[value="onnx"]');
  if (onnxOption) onnxOption.disabled = state.route.ortWeb === undefined;
}

/** The toggle: recomputes what the route computes (responses, tuning) on the chosen one. */
async function routeChanged(state: DemoState, route: Route): Promise<void> {
  state.meiAbort?.abort(); // a running MEI stops after its current step (showing the stimulus so far)
  state.route.chosen = route; // the ONNX engine stays with the model (disposed when the model goes), for a switch back
  const blocker = route === 'onnx' ? onnxBlocker(state) : undefined;
  if (blocker) message(`ONNX Runtime cannot run this model (${blocker}): predictions and MEIs stay on TF.js.`, 'note');
  const kernels = route === 'kernels' ? kernelsBlocker(state) : undefined;
  if (kernels) message(`The WebAssembly kernels cannot run this model (${kernels}): predictions go to the next route.`, 'note');
  renderRoute(state);
  await computeTuning(state);
  renderTuning(state);
  await stimulusChanged(state);
}

function wire(state: DemoState): void {
  const redrawSelection = () => {
    renderResponses(state);
    renderTuning(state);
  };
  $('stimulus').addEventListener('change', () => void busy('Stimulus', () => stimulusChanged(state)));
  $('grating-dir').addEventListener('change', () => void busy('Stimulus', () => stimulusChanged(state)));
  $('session').addEventListener('change', () => {
    state.session = $<HTMLSelectElement>('session').value;
    void busy('Session', () => sessionChanged(state));
  });
  $('route').addEventListener('change', () => void busy('Route', () => routeChanged(state, $<HTMLSelectElement>('route').value as Route)));
  $('play').addEventListener('click', () => togglePlayback(state, setResponseCursor));
  $('frame-slider').addEventListener('input', () => showFrame(state, Number($<HTMLInputElement>('frame-slider').value), setResponseCursor));
  $('neurons').addEventListener('change', redrawSelection);
  $('layer').addEventListener('change', () => renderFilters(state));
  $('mei-preset').addEventListener('change', syncCap);
  $('mei-run').addEventListener('click', () => void runMei(state));
  $('mei-cancel').addEventListener('click', () => state.meiAbort?.abort());
  for (const id of ['file', 'folder']) $(id).addEventListener('change', () => void onModelFiles(state, $<HTMLInputElement>(id)));
  $('movie-file').addEventListener('change', () => void onMovieFile(state, $<HTMLInputElement>('movie-file')));
  $('reset-model').addEventListener(
    'click',
    () =>
      void busy('Loading the bundled model', async () => {
        clearErrors();
        await useModel(state, await bundled());
      }),
  );
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const backends = await setUpBackends(params.get('backend'));
  // Predictions start on our WebAssembly kernels, MEIs on ONNX Runtime Web when it loads (?route=onnx: both on ONNX
  // Runtime, ?route=tfjs: both on TF.js; ?ort=wasm skips WebGPU).
  let ortWeb: OrtWeb | undefined;
  let ortError: string | undefined;
  try {
    ortWeb = await loadOrtWeb(params.get('ort'));
  } catch (e) {
    ortError = describeError(e).text;
    message(`ONNX Runtime Web is unavailable (${ortError}): predictions and MEIs run on TF.js.`, 'note');
  }
  const state = createState(backends, createRouteState(ortWeb, ortError, params.get('route')));
  for (const n of ortWeb?.notes ?? []) message(n, 'note');
  const bs = $('backend-status');
  bs.textContent = `TF.js backend: ${backends.display} for predictions, ${backends.mei} (gradient-checked) for MEIs`;
  Object.assign(bs.dataset, { display: backends.display, mei: backends.mei, webgl: String(backends.webgl) });
  for (const n of backends.notes) message(n, 'note');
  fillStimulusChoices();
  fillPresets();
  wire(state);
  renderRoute(state);
  await loadNaturalMovie(state);
  const modelUrl = params.get('model');
  if (modelUrl) {
    const ok = await busy(`Loading the model from ${modelUrl}`, async () => {
      await useModel(state, await loadFromUrl(new URL(modelUrl, document.baseURI).href));
      message(`Loaded the model from ${modelUrl}.`, 'note');
      return true;
    });
    if (!ok) await busy('Loading the bundled model', async () => useModel(state, await bundled()));
  } else {
    await busy('Loading the bundled model', async () => useModel(state, await bundled()));
  }
  document.body.dataset.ready = 'true';
  if (state.loaded) await runSelfTest(state);
  document.body.dataset.selftest = 'done';
  // For debugging from the console, and for the route-parity test and the browser benchmark (bench/browser.mjs).
  (globalThis as unknown as { openretinaDemo: unknown }).openretinaDemo = {
    tf,
    state,
    predictOnRoute: (route: Route, frames: number) => predictOnRoute(state, route, frames),
    meiOnRoute: (route: Route, neuron: number, steps: number) => meiOnRoute(state, route, neuron, steps),
    timeRoutes: (options: { frames?: number; runs?: number; warmup?: number }) => timeRoutes(state, options),
  };
}

void main().catch((e: unknown) => {
  message(`The demo failed to start: ${describeError(e).text}`, 'error', 'startup');
  document.body.dataset.ready = 'error';
});
