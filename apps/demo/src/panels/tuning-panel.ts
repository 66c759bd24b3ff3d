// Direction tuning: mean predicted response per moving-bar direction of the selected neurons, with DSI and preference.
import { directionTuning } from '@openretina/insilico';
import { Figure, SERIES_COLORS } from '@openretina/plot';
import { predictResponses } from '../analysis.js';
import { $, selectedNeurons, showSvg } from '../dom.js';
import { routePredictor } from '../route.js';
import { makeStimulus } from '../stimuli.js';
import { neuronCount, type DemoState } from '../state.js';

export async function computeTuning(state: DemoState): Promise<void> {
  const m = state.loaded?.model;
  if (!m) return;
  const bar = makeStimulus({ kind: 'moving-bar' }, m.stimulus);
  const r = await predictResponses(m, bar.movie, state.session, await routePredictor(state));
  state.tuning = directionTuning(r, m.framesCut, bar.sweep!.frames, bar.sweep!.directions);
}

export function renderTuning(state: DemoState): void {
  const t = state.tuning;
  if (!t) return;
  const sel = selectedNeurons(neuronCount(state), SERIES_COLORS.length);
  const fig = new Figure({ width: 300, height: 330 });
  const polar = fig.polar({ x: 0, y: 0, width: 300, height: 330 }, t.directions, { rLabel: 'mean predicted rate' });
  sel.forEach((n, k) => polar.add({ values: t.means.map((m) => m[n]!), color: SERIES_COLORS[k]!, label: `neuron ${n}` }));
  const box = $('tuning');
  showSvg(box, fig.toSvg());
  box.dataset.points = String(sel.length * t.directions.length);
  $('tuning-info').textContent = sel
    .map((n) => `neuron ${n}: DSI ${t.dsi[n]!.toFixed(2)}, preferred ${t.preferred[n]!.toFixed(0)}°`)
    .join(' · ');
}
