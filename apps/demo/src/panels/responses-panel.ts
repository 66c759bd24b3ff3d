// Predicted responses of the selected neurons over the current stimulus, with a time cursor that follows the movie.
import { Figure, SERIES_COLORS, el } from '@openretina/plot';
import { trace } from '../analysis.js';
import { $, selectedNeurons, showSvg } from '../dom.js';
import { FRAME_RATE } from '../stimuli.js';
import { neuronCount, type DemoState } from '../state.js';

export function renderResponses(state: DemoState): void {
  const r = state.responses;
  const stim = state.stimulus;
  const model = state.loaded?.model;
  if (!r || !stim || !model) return;
  const cut = model.framesCut;
  const neurons = selectedNeurons(neuronCount(state), SERIES_COLORS.length);
  const xMax = stim.movie.shape[0] / FRAME_RATE;
  const fig = new Figure({ width: 1180, height: 250 });
  const ax = fig.axes(
    { x: 0, y: 4, width: 1180, height: 244 },
    {
      xLabel: `Time [s] — ${stim.label}; the first ${cut} frames fill the model's temporal filters`,
      yLabel: 'Predicted rate',
      xDomain: [0, xMax],
    },
  );
  neurons.forEach((n, k) => {
    const y = trace(r, n);
    ax.line(
      Array.from(y, (_, i) => (cut + i) / FRAME_RATE),
      y,
      { color: SERIES_COLORS[k]!, label: `neuron ${n}` },
    );
  });
  const { x, y, width, height } = ax.inner;
  fig.raw(el('line', { class: 'cursor', x1: x, x2: x, y1: y, y2: y + height, stroke: '#000', 'stroke-dasharray': '3 3' }));
  const box = $('responses');
  const svg = showSvg(box, fig.toSvg());
  Object.assign(box.dataset, {
    series: String(neurons.length),
    points: String(neurons.length * r.frames),
    stimulus: stim.kind,
    x0: String(x),
    width: String(width),
    xmax: String(xMax),
  });
  svg.setAttribute('role', 'img');
  setResponseCursor(state.frame / FRAME_RATE);
}

/** Moves the dashed cursor to time t (seconds). */
export function setResponseCursor(t: number): void {
  const box = document.getElementById('responses');
  const line = box?.querySelector('line.cursor');
  if (!box || !line) return;
  const px = Number(box.dataset.x0) + (t / Number(box.dataset.xmax)) * Number(box.dataset.width);
  line.setAttribute('x1', String(px));
  line.setAttribute('x2', String(px));
}
