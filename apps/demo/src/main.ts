import * as tf from '@tensorflow/tfjs-core';
import type { Movie } from '@openretina/contracts';
import { parseNpy, toFloat32 } from '@openretina/formats';
import {
  coreFilters,
  centreOfMass,
  directionTuning,
  predictResponses,
  readoutMasks,
  spatioTemporal,
  trace,
  type LayerFilters,
} from './analysis.js';
import { onBackend, setUpBackends, type Backends } from './backend.js';
import { BUNDLED_MODEL } from './bundled-model.js';
import { computeMei } from './mei.js';
import { DemoLoadError, loadBundled, loadFromFiles, type LoadedModel } from './model-loader.js';
import { PALETTE, drawFrame, heatmap, linePlot, maxAbs, polarPlot, setCursor } from './plots.js';
import { compareModelGradientWithCpu, runGradientChecks, type GradientCheck } from './selftest.js';
import { FRAME_RATE, STIMULUS_LABELS, makeStimulus, naturalMovieFor, type DemoStimulus, type StimulusKind } from './stimuli.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e as T;
};
const svg$ = (id: string): SVGSVGElement => document.getElementById(id) as unknown as SVGSVGElement;

interface State {
  backends: Backends;
  loaded?: LoadedModel;
  session: string;
  stimulus?: DemoStimulus;
  responses?: { data: Float32Array; frames: number; neurons: number };
  filters: LayerFilters[];
  masks?: { masks: Float32Array[]; h: number; w: number } | undefined;
  tuning?: ReturnType<typeof directionTuning>;
  naturalMovie?: Movie;
  frame: number;
  timer?: ReturnType<typeof setInterval> | undefined;
  meiAbort?: AbortController;
  meiTimer?: ReturnType<typeof setInterval>;
  gradientsOk: boolean;
}

let state: State;

// ---------------------------------------------------------------- messages

function message(text: string, kind: 'note' | 'error', errorKind?: string): void {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = text;
  if (errorKind) li.dataset.kind = errorKind;
  $('messages').appendChild(li);
}

function clearErrors(): void {
  for (const li of Array.from($('messages').querySelectorAll('li.error'))) li.remove();
}

function describeError(e: unknown): { text: string; kind: string } {
  if (e instanceof DemoLoadError) return { text: e.message, kind: e.kind };
  return { text: e instanceof Error ? e.message : String(e), kind: 'invalid' };
}

// ---------------------------------------------------------------- selection

function model(): LoadedModel {
  if (!state.loaded) throw new Error('no model loaded');
  return state.loaded;
}

function neuronCount(): number {
  return model().model.neuronsPerSession[state.session] ?? 0;
}

function selectedNeurons(): number[] {
  const n = neuronCount();
  const picked = ($<HTMLInputElement>('neurons').value.match(/\d+/g) ?? []).map(Number).filter((i) => i < n);
  return [...new Set(picked)].slice(0, PALETTE.length);
}

// ---------------------------------------------------------------- model

async function useModel(loaded: LoadedModel): Promise<void> {
  stopPlayback();
  state.meiAbort?.abort();
  state.loaded?.model.dispose();
  state.loaded = loaded;
  const m = loaded.model;
  const s = m.stimulus;
  $('model-name').textContent = loaded.name;
  $('model-name').dataset.source = loaded.source;
  const total = Object.values(m.neuronsPerSession).reduce((a, b) => a + b, 0);
  $('model-info').textContent =
    `input [${s.channels} ch, ${s.height}×${s.width} px] · ${m.sessions.length} session(s), ${total} neurons · ` +
    `${m.numParameters()} parameters · each output frame sees ${m.framesCut + 1} input frames` +
    (loaded.source === 'bundled' ? '' : ` · loaded from ${loaded.source === 'ours' ? 'our checkpoint' : 'an OpenRetina checkpoint'}`);
  const sel = $<HTMLSelectElement>('session');
  sel.replaceChildren(...m.sessions.map((k) => new Option(`${k} (${m.neuronsPerSession[k]} neurons)`, k)));
  state.session = m.sessions.includes('session_2') ? 'session_2' : m.sessions[0]!;
  sel.value = state.session;
  state.filters = await coreFilters(m);
  const layerSel = $<HTMLSelectElement>('layer');
  layerSel.replaceChildren(...state.filters.map((l, i) => new Option(l.name, String(i))));
  renderFilters();
  await sessionChanged();
}

async function sessionChanged(): Promise<void> {
  const n = neuronCount();
  $<HTMLInputElement>('mei-neuron').max = String(n - 1);
  if (Number($<HTMLInputElement>('mei-neuron').value) >= n) $<HTMLInputElement>('mei-neuron').value = '0';
  state.masks = await readoutMasks(model().model, state.session);
  await computeTuning();
  await stimulusChanged();
}

// ---------------------------------------------------------------- stimulus and responses

function currentKind(): StimulusKind {
  return $<HTMLSelectElement>('stimulus').value as StimulusKind;
}

async function stimulusChanged(): Promise<void> {
  stopPlayback();
  const kind = currentKind();
  $('grating-dir-label').style.display = kind === 'grating' ? '' : 'none';
  const m = model().model;
  const naturalMovie = kind === 'natural' ? naturalMovieFor(state.naturalMovie, m.stimulus) : undefined;
  state.stimulus = makeStimulus(
    { kind, direction: Number($<HTMLSelectElement>('grating-dir').value), ...(naturalMovie ? { naturalMovie } : {}) },
    m.stimulus,
  );
  const frames = state.stimulus.movie.shape[0];
  $<HTMLInputElement>('frame-slider').max = String(frames - 1);
  state.frame = 0;
  state.responses = await predictResponses(m, state.stimulus.movie, state.session);
  showFrame(0);
  renderResponses();
  renderReadout();
}

function renderResponses(): void {
  const r = state.responses;
  const stim = state.stimulus;
  if (!r || !stim) return;
  const cut = model().model.framesCut;
  const series = selectedNeurons().map((n, k) => ({
    y: trace(r, n),
    x0: cut / FRAME_RATE,
    dx: 1 / FRAME_RATE,
    color: PALETTE[k]!,
    label: `neuron ${n}`,
  }));
  const svg = svg$('responses');
  linePlot(svg, series, {
    xLabel: `time (s) — ${stim.label}; the first ${cut} frames fill the model's temporal filters`,
    yLabel: 'predicted rate',
    xMax: stim.movie.shape[0] / FRAME_RATE,
  });
  svg.dataset.stimulus = currentKind();
  setCursor(svg, state.frame / FRAME_RATE);
}

function showFrame(f: number): void {
  const stim = state.stimulus;
  if (!stim) return;
  state.frame = f;
  drawFrame($<HTMLCanvasElement>('movie-canvas'), stim.movie, f, stim.displayScale ?? 1);
  $<HTMLInputElement>('frame-slider').value = String(f);
  const t = stim.movie.shape[0];
  let label = `frame ${f + 1}/${t} · ${(f / FRAME_RATE).toFixed(2)} s`;
  if (stim.sweep)
    label += ` · bar moving ${stim.sweep.directions[Math.min(stim.sweep.directions.length - 1, Math.floor(f / stim.sweep.frames))]}°`;
  $('frame-label').textContent = label;
  $('movie-canvas').dataset.frame = String(f);
  setCursor(svg$('responses'), f / FRAME_RATE);
}

function stopPlayback(): void {
  if (state?.timer !== undefined) clearInterval(state.timer);
  if (state) state.timer = undefined;
  $('play').textContent = '▶ Play';
  $('play').dataset.playing = 'false';
}

function togglePlayback(): void {
  if (state.timer !== undefined) {
    stopPlayback();
    return;
  }
  const stim = state.stimulus;
  if (!stim) return;
  $('play').textContent = '❚❚ Pause';
  $('play').dataset.playing = 'true';
  if (state.frame >= stim.movie.shape[0] - 1) state.frame = 0;
  state.timer = setInterval(() => {
    const next = state.frame + 1;
    if (next >= stim.movie.shape[0]) return stopPlayback();
    showFrame(next);
  }, 1000 / FRAME_RATE);
}

// ---------------------------------------------------------------- readout

function renderReadout(): void {
  const canvas = $<HTMLCanvasElement>('readout-canvas');
  const maps = $('readout-maps');
  maps.replaceChildren();
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const info = state.masks;
  if (!info) {
    ctx.fillText('This readout type has no spatial mask to show.', 10, 20);
    canvas.dataset.neurons = '0';
    return;
  }
  const { masks, h, w } = info;
  const cell = Math.min(canvas.width / w, canvas.height / h);
  // Sum of all masks as a grey background.
  const sum = new Float32Array(h * w);
  for (const m of masks) for (let i = 0; i < h * w; i++) sum[i]! += m[i]!;
  const smax = maxAbs(sum) || 1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const g = Math.round(255 - 120 * (sum[y * w + x]! / smax));
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect(x * cell, y * cell, cell, cell);
    }
  const selected = selectedNeurons();
  masks.forEach((m, n) => {
    const c = centreOfMass(m, h, w);
    ctx.beginPath();
    ctx.arc(c.x * cell, c.y * cell, selected.includes(n) ? 6 : 2.5, 0, Math.PI * 2);
    ctx.fillStyle = selected.includes(n) ? PALETTE[selected.indexOf(n)]! : '#555';
    ctx.fill();
  });
  canvas.dataset.neurons = String(masks.length);
  for (const [k, n] of selected.entries()) {
    const fig = document.createElement('figure');
    const cv = document.createElement('canvas');
    heatmap(cv, masks[n]!, h, w, 'positive');
    cv.style.borderColor = PALETTE[k]!;
    fig.append(cv, Object.assign(document.createElement('figcaption'), { textContent: `neuron ${n}` }));
    maps.appendChild(fig);
  }
}

// ---------------------------------------------------------------- tuning

async function computeTuning(): Promise<void> {
  const m = model().model;
  const bar = makeStimulus({ kind: 'moving-bar' }, m.stimulus);
  const r = await predictResponses(m, bar.movie, state.session);
  state.tuning = directionTuning(r, m.framesCut, bar.sweep!.frames, bar.sweep!.directions);
  renderTuning();
}

function renderTuning(): void {
  const t = state.tuning;
  if (!t) return;
  const dirs = makeStimulus({ kind: 'moving-bar' }, model().model.stimulus).sweep!.directions;
  const sel = selectedNeurons();
  polarPlot(
    svg$('tuning'),
    dirs,
    sel.map((n, k) => ({ values: t.means.map((m) => m[n]!), color: PALETTE[k]!, label: `neuron ${n}` })),
  );
  $('tuning-info').textContent = sel
    .map((n) => `neuron ${n}: DSI ${t.dsi[n]!.toFixed(2)}, preferred ${t.preferred[n]!.toFixed(0)}°`)
    .join(' · ');
}

// ---------------------------------------------------------------- filters

function renderFilters(): void {
  const box = $('filters');
  box.replaceChildren();
  const layer = state.filters[Number($<HTMLSelectElement>('layer').value) || 0];
  if (!layer) {
    box.textContent = 'No 3-D convolution layers found in this core.';
    return;
  }
  $('filters-method').textContent =
    layer.method === 'separable'
      ? `space-time separable: spatial ${layer.kh}×${layer.kw} kernels and ${layer.kt}-tap temporal kernels (time runs left to right, oldest first)`
      : `full 3-D kernels: the map at the peak time and the trace at the peak pixel`;
  const inputs = layer.spatial[0]?.length ?? 0;
  const names = inputs === 2 && layer === state.filters[0] ? ['green', 'UV'] : undefined;
  layer.spatial.forEach((perIn, o) => {
    const fig = document.createElement('figure');
    // All inputs for small input counts (the colour channels of layer 0), else the strongest input.
    let shown = perIn.map((_, i) => i);
    if (inputs > 3) {
      const norms = perIn.map((s) => s.reduce((a, v) => a + v * v, 0));
      shown = [norms.indexOf(Math.max(...norms))];
    }
    for (const i of shown) {
      const cv = document.createElement('canvas');
      heatmap(cv, perIn[i]!, layer.kh, layer.kw);
      fig.appendChild(cv);
    }
    const s = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    s.setAttribute('width', '140');
    s.setAttribute('height', '60');
    fig.appendChild(s);
    linePlot(
      s,
      shown.map((i, k) => ({ y: layer.temporal[o]![i]!, color: names ? (i === 0 ? '#2ca02c' : '#7b3fe4') : PALETTE[k]!, label: '' })),
      { compact: true },
    );
    const cap = document.createElement('figcaption');
    cap.textContent = `channel ${o}${names ? ` (${shown.map((i) => names[i]).join(', ')})` : inputs > 3 ? ` (strongest input ${shown[0]})` : ''}`;
    fig.appendChild(cap);
    box.appendChild(fig);
  });
  box.dataset.channels = String(layer.spatial.length);
}

// ---------------------------------------------------------------- MEI

async function runMei(): Promise<void> {
  const m = model().model;
  const panel = $('mei-panel');
  if (!state.gradientsOk) {
    $('mei-status').textContent = 'The gradient self-test failed on this backend: MEIs are disabled.';
    return;
  }
  const neuron = Number($<HTMLInputElement>('mei-neuron').value);
  const steps = Math.max(1, Math.min(500, Math.round(Number($<HTMLInputElement>('mei-steps').value) || 10)));
  if (!(neuron >= 0 && neuron < neuronCount())) {
    $('mei-status').textContent = `Neuron must be 0…${neuronCount() - 1}.`;
    return;
  }
  const abort = new AbortController();
  state.meiAbort = abort;
  const progress = $<HTMLProgressElement>('mei-progress');
  progress.max = steps;
  progress.value = 0;
  $<HTMLButtonElement>('mei-run').disabled = true;
  $<HTMLButtonElement>('mei-cancel').disabled = false;
  panel.dataset.state = 'running';
  $('mei-status').textContent = `starting on ${state.backends.mei}…`;
  const t0 = performance.now();
  try {
    const result = await onBackend(state.backends.mei, () =>
      computeMei(m, {
        session: state.session,
        neuron,
        steps,
        signal: abort.signal,
        onStep: (step, objective) => {
          progress.value = step;
          $('mei-status').textContent = `step ${step}/${steps} · objective ${objective.toFixed(3)} · ${state.backends.mei}`;
        },
      }),
    );
    if (state.meiAbort !== abort) return; // the model changed meanwhile
    showMei(result.movie);
    const last = result.objectives.at(-1);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    $('mei-status').textContent = result.cancelled
      ? `cancelled after ${result.iterations} of ${steps} steps (${secs} s); showing the stimulus so far`
      : `done: ${result.iterations} steps in ${secs} s on ${state.backends.mei}; objective ${result.objectives[0]?.toFixed(3)} → ${last?.toFixed(3)} (before the last step)`;
    panel.dataset.state = result.cancelled ? 'cancelled' : 'done';
    panel.dataset.iterations = String(result.iterations);
    panel.dataset.norm = String(Math.sqrt(result.movie.data.reduce((a, v) => a + v * v, 0)));
    panel.dataset.objectives = JSON.stringify(result.objectives);
  } catch (e) {
    panel.dataset.state = 'error';
    $('mei-status').textContent = `MEI failed: ${describeError(e).text}`;
  } finally {
    $<HTMLButtonElement>('mei-run').disabled = false;
    $<HTMLButtonElement>('mei-cancel').disabled = true;
  }
}

function showMei(movie: Movie): void {
  if (state.meiTimer !== undefined) clearInterval(state.meiTimer);
  const [t, h, w, c] = movie.shape;
  const scale = 1 / (maxAbs(movie.data) || 1);
  const canvas = $<HTMLCanvasElement>('mei-canvas');
  let f = 0;
  drawFrame(canvas, movie, 0, scale);
  state.meiTimer = setInterval(() => {
    f = (f + 1) % t;
    drawFrame(canvas, movie, f, scale);
  }, 1000 / 15);
  const { spatial, temporal, peakFrame } = spatioTemporal(movie);
  const maps = $('mei-spatial');
  maps.replaceChildren();
  const names = c === 2 ? ['green', 'UV'] : spatial.map((_, k) => `channel ${k}`);
  spatial.forEach((s, k) => {
    const fig = document.createElement('figure');
    const cv = document.createElement('canvas');
    heatmap(cv, s, h, w);
    fig.append(cv, Object.assign(document.createElement('figcaption'), { textContent: `${names[k]} (frame ${peakFrame + 1})` }));
    maps.appendChild(fig);
  });
  linePlot(
    svg$('mei-temporal'),
    temporal.map((tr, k) => ({ y: tr, dx: 1 / FRAME_RATE, color: c === 2 ? ['#2ca02c', '#7b3fe4'][k]! : PALETTE[k]!, label: names[k]! })),
    { xLabel: 'time (s)' },
  );
}

// ---------------------------------------------------------------- self-test

async function runSelfTest(): Promise<void> {
  const tbody = $('selftest').querySelector('tbody')!;
  tbody.replaceChildren();
  $('selftest-status').textContent = `running on ${state.backends.mei}…`;
  const results: GradientCheck[] = [];
  try {
    await onBackend(state.backends.mei, async () => {
      results.push(...(await runGradientChecks()));
      if (state.backends.mei !== 'cpu') results.push(await compareModelGradientWithCpu(model().model, state.session));
    });
  } catch (e) {
    results.push({
      op: `self-test crashed: ${describeError(e).text}`,
      backend: state.backends.mei,
      relError: Number.NaN,
      pass: false,
      ms: 0,
    });
  }
  for (const r of results) {
    const tr = document.createElement('tr');
    tr.innerHTML = `<td></td><td>${r.backend}</td><td>${r.relError.toExponential(2)}</td><td>${r.ms.toFixed(0)}</td><td class="${r.pass ? 'pass' : 'fail'}">${r.pass ? 'pass' : 'FAIL'}</td>`;
    tr.firstElementChild!.textContent = r.op;
    tbody.appendChild(tr);
  }
  state.gradientsOk = results.every((r) => r.pass);
  const table = $('selftest');
  table.dataset.status = state.gradientsOk ? 'pass' : 'fail';
  table.dataset.result = JSON.stringify(results);
  $('selftest-status').textContent = state.gradientsOk
    ? `all ${results.length} checks pass on ${state.backends.mei} (tolerance 1e-3): MEIs use this backend`
    : `a check failed on ${state.backends.mei}: MEIs are disabled`;
}

// ---------------------------------------------------------------- wiring

async function busy<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  document.body.dataset.busy = 'true';
  try {
    return await fn();
  } catch (e) {
    const { text, kind } = describeError(e);
    message(`${what}: ${text}`, 'error', kind);
    return undefined;
  } finally {
    document.body.dataset.busy = 'false';
  }
}

async function onFiles(input: HTMLInputElement): Promise<void> {
  const files = Array.from(input.files ?? []);
  if (files.length === 0) return;
  clearErrors();
  const named = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  const upload = $('file');
  upload.dataset.state = 'loading';
  const ok = await busy('Loading failed', async () => {
    const loaded = await loadFromFiles(named);
    await useModel(loaded);
    message(`Loaded ${loaded.name}.`, 'note');
    return true;
  });
  upload.dataset.state = ok ? 'loaded' : 'error';
  input.value = '';
}

async function loadNaturalMovie(): Promise<void> {
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

async function main(): Promise<void> {
  const request = new URLSearchParams(location.search).get('backend');
  const backends = await setUpBackends(request);
  state = { backends, session: '', filters: [], frame: 0, gradientsOk: false };
  const bs = $('backend-status');
  bs.textContent = `TF.js backend: ${backends.display} for predictions, ${backends.mei} (gradient-checked) for MEIs`;
  bs.dataset.display = backends.display;
  bs.dataset.mei = backends.mei;
  bs.dataset.webgl = String(backends.webgl);
  for (const n of backends.notes) message(n, 'note');

  const stimSel = $<HTMLSelectElement>('stimulus');
  stimSel.replaceChildren(...(Object.keys(STIMULUS_LABELS) as StimulusKind[]).map((k) => new Option(STIMULUS_LABELS[k], k)));
  $<HTMLSelectElement>('grating-dir').replaceChildren(...[0, 45, 90, 135, 180, 225, 270, 315].map((d) => new Option(`${d}°`, String(d))));

  stimSel.addEventListener('change', () => void busy('Stimulus', stimulusChanged));
  $('grating-dir').addEventListener('change', () => void busy('Stimulus', stimulusChanged));
  $('session').addEventListener('change', () => {
    state.session = $<HTMLSelectElement>('session').value;
    void busy('Session', sessionChanged);
  });
  $('play').addEventListener('click', togglePlayback);
  $('frame-slider').addEventListener('input', () => showFrame(Number($<HTMLInputElement>('frame-slider').value)));
  $('neurons').addEventListener('change', () => {
    renderResponses();
    renderReadout();
    renderTuning();
  });
  $('layer').addEventListener('change', renderFilters);
  $('mei-run').addEventListener('click', () => void runMei());
  $('mei-cancel').addEventListener('click', () => state.meiAbort?.abort());
  $('file').addEventListener('change', () => void onFiles($<HTMLInputElement>('file')));
  $('reset-model').addEventListener(
    'click',
    () =>
      void busy('Loading the bundled model', async () => {
        clearErrors();
        await useModel(await loadBundled(new URL(BUNDLED_MODEL.folder, document.baseURI).href, BUNDLED_MODEL.label));
      }),
  );

  await loadNaturalMovie();
  await busy('Loading the bundled model', async () => {
    await useModel(await loadBundled(new URL(BUNDLED_MODEL.folder, document.baseURI).href, BUNDLED_MODEL.label));
  });
  document.body.dataset.ready = 'true';
  if (state.loaded) await runSelfTest();
  document.body.dataset.selftest = 'done';
  // For debugging from the console.
  (globalThis as unknown as { openretinaDemo: unknown }).openretinaDemo = { tf, state: () => state };
}

void main().catch((e: unknown) => {
  message(`The demo failed to start: ${describeError(e).text}`, 'error', 'startup');
  document.body.dataset.ready = 'error';
});
