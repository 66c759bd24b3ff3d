// MEI panel: gradient ascent with the CLI's presets and convergence rule, shown as the same composition figure as
// `openretina mei` (traces, spectrum, spatial maps with a colour scale), the objective curve and an animation.
import { MEI_PRESETS, objectiveCurveSvg, stimulusCompositionSvg } from '@openretina/insilico';
import { onBackend } from '../backend.js';
import { $, describeError, showSvg } from '../dom.js';
import { drawFrame, maxAbs } from '../frame-canvas.js';
import { computeMei, type MeiResult } from '../mei.js';
import { routeEngine } from '../route.js';
import { neuronCount, type DemoState } from '../state.js';

export function fillPresets(): void {
  $<HTMLSelectElement>('mei-preset').replaceChildren(
    ...Object.values(MEI_PRESETS).map((p) => new Option(`${p.name}: ${p.description}`, p.name)),
  );
  syncCap();
}

/** The step cap follows the preset unless the user changed it. */
export function syncCap(): void {
  const preset = MEI_PRESETS[$<HTMLSelectElement>('mei-preset').value as keyof typeof MEI_PRESETS] ?? MEI_PRESETS.default;
  $<HTMLInputElement>('mei-steps').value = String(preset.maxSteps);
}

export async function runMei(state: DemoState): Promise<void> {
  const m = state.loaded?.model;
  if (!m) return;
  const panel = $('mei-panel');
  if (!state.gradientsOk) {
    $('mei-status').textContent = 'The gradient self-test failed on this backend: MEIs are disabled.';
    return;
  }
  const neuron = Number($<HTMLInputElement>('mei-neuron').value);
  const cap = Math.max(1, Math.min(1000, Math.round(Number($<HTMLInputElement>('mei-steps').value) || 300)));
  if (!(neuron >= 0 && neuron < neuronCount(state))) {
    $('mei-status').textContent = `Neuron must be 0…${neuronCount(state) - 1}.`;
    return;
  }
  const abort = new AbortController();
  state.meiAbort = abort;
  const progress = $<HTMLProgressElement>('mei-progress');
  progress.max = cap;
  progress.value = 0;
  $<HTMLButtonElement>('mei-run').disabled = true;
  $<HTMLButtonElement>('mei-cancel').disabled = false;
  panel.dataset.state = 'running';
  $('mei-warnings').replaceChildren();
  const engine = routeEngine(state);
  // where the gradients come from: ONNX Runtime's vector-Jacobian product, or TF.js's own on the MEI backend
  const where = engine ? `ONNX Runtime (${state.route.ortWeb!.provider})` : state.backends.mei;
  $('mei-status').textContent = `starting on ${where}…`;
  panel.dataset.route = engine ? 'onnx' : 'tfjs';
  const t0 = performance.now();
  try {
    const result = await onBackend(state.backends.mei, () =>
      computeMei(m, {
        ...(engine ? { engine } : {}),
        session: state.session,
        neuron,
        preset: $<HTMLSelectElement>('mei-preset').value,
        maxSteps: cap,
        signal: abort.signal,
        onStep: (step, objective) => {
          progress.value = step;
          $('mei-status').textContent = `step ${step} (at most ${cap}) · objective ${objective.toFixed(3)} · ${where}`;
        },
      }),
    );
    if (state.meiAbort !== abort) return; // the model changed meanwhile
    showMei(state, result, `${state.session} · neuron ${neuron}`);
    const v = result.verdict;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    $('mei-status').textContent = result.cancelled
      ? `cancelled after ${result.iterations} steps (${secs} s); showing the stimulus so far`
      : `${v.converged ? 'converged' : 'NOT converged'}: ${result.iterations} steps in ${secs} s on ${where}; objective ${v.objectiveStart.toFixed(3)} → ${v.objectiveEnd.toFixed(3)}`;
    $('mei-warnings').replaceChildren(...v.warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));
    Object.assign(panel.dataset, {
      state: result.cancelled ? 'cancelled' : 'done',
      iterations: String(result.iterations),
      converged: String(v.converged),
      warnings: String(v.warnings.length),
      norm: String(Math.sqrt(result.movie.data.reduce((a, x) => a + x * x, 0))),
      objectives: JSON.stringify(result.objectives),
    });
  } catch (e) {
    panel.dataset.state = 'error';
    $('mei-status').textContent = `MEI failed: ${describeError(e).text}`;
  } finally {
    $<HTMLButtonElement>('mei-run').disabled = false;
    $<HTMLButtonElement>('mei-cancel').disabled = true;
  }
}

function showMei(state: DemoState, result: MeiResult, title: string): void {
  if (state.meiTimer !== undefined) clearInterval(state.meiTimer);
  const movie = result.movie;
  const scale = 1 / (maxAbs(movie.data) || 1);
  const canvas = $<HTMLCanvasElement>('mei-canvas');
  let f = 0;
  drawFrame(canvas, movie, 0, scale);
  state.meiTimer = setInterval(() => {
    f = (f + 1) % movie.shape[0];
    drawFrame(canvas, movie, f, scale);
  }, 1000 / 15);
  const v = result.verdict;
  showSvg(
    $('mei-figure'),
    stimulusCompositionSvg(
      { data: movie.data, shape: [movie.shape[0], movie.shape[1], movie.shape[2], movie.shape[3]] },
      {
        title,
        subtitle: `MEI (${result.settings.name} preset): objective ${v.objectiveStart.toFixed(3)} → ${v.objectiveEnd.toFixed(3)} in ${result.iterations} steps, ${v.converged ? 'converged' : 'NOT converged'}`,
        highlight: [result.windowFrames],
      },
    ),
  );
  showSvg(
    $('mei-objective'),
    objectiveCurveSvg(result.objectives, {
      title: `MEI objective: ${title}`,
      converged: v.converged,
      maxIterations: result.settings.maxSteps,
    }),
  );
}
