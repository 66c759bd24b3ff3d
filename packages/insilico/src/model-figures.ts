// Figures of a model (OpenRetina's weight plots, readout masks, direction tuning, ROI animation), through @openretina/plot.
import { Figure, SERIES_COLORS, channelStyle, colormap, el, gridRects, hex, text, viridis } from '@openretina/plot';
import type { DirectionTuning, ResponseTrace } from './direction-tuning.js';
import { centreOfMass, type LayerWeights, type ReadoutMasks } from './model-weights.js';

function absMax(maps: Iterable<ArrayLike<number>>): number {
  let m = 0;
  for (const a of maps) for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m || 1;
}

/**
 * A kernel pair with its sign chosen so that the spatial centre is positive (OpenRetina's `plot_weights` default):
 * the product, i.e. the filter, is unchanged.
 */
function centrePositive(spatial: Float32Array, temporal: Float32Array, kh: number, kw: number): [Float32Array, Float32Array] {
  const cy = Math.floor(kh / 2);
  const cx = Math.floor(kw / 2);
  let s = 0;
  for (let y = Math.max(0, cy - 1); y <= Math.min(kh - 1, cy + 1); y++)
    for (let x = Math.max(0, cx - 1); x <= Math.min(kw - 1, cx + 1); x++) s += spatial[y * kw + x]!;
  return s < 0 ? [spatial.map((v) => -v), temporal.map((v) => -v)] : [spatial, temporal];
}

export interface LayerWeightsFigureOptions {
  title?: string;
  /** Names of the input channels (e.g. Green, UV for layer 0 of a Höfling model). */
  inputNames?: readonly string[];
  /** Frame rate for the temporal axis (default 30 Hz). */
  frameRate?: number;
}

/**
 * One conv layer's weights (OpenRetina's `plot_weights` for every channel pair, on one page): per output channel
 * the spatial kernel of each input (RdBu_r, one symmetric colour scale for the layer, centre made positive) and the
 * temporal kernels. Layers with more than 3 inputs show each output's strongest input.
 */
export function layerWeightsSvg(layer: LayerWeights, options: LayerWeightsFigureOptions = {}): string {
  const O = layer.spatial.length;
  const I = layer.spatial[0]?.length ?? 0;
  const fr = options.frameRate ?? 30;
  const shown = layer.spatial.map((perIn) => {
    if (I <= 3) return perIn.map((_, i) => i);
    const norms = perIn.map((s) => s.reduce((a, v) => a + v * v, 0));
    return [norms.indexOf(Math.max(...norms))];
  });
  const cols = 4;
  const rows = Math.ceil(O / cols);
  const cardH = 200;
  const fig = new Figure({
    width: 1100,
    height: 0,
    title: options.title ?? `Weights of ${layer.name}`,
    subtitle:
      layer.method === 'separable'
        ? `${O} output × ${I} input channels: spatial ${layer.kh}×${layer.kw} and ${layer.kt}-tap temporal kernels (exact factors)${I > 3 ? '; strongest input per output' : ''}`
        : `${O} output × ${I} input channels: map at the peak time and trace at the peak pixel of each 3-D kernel`,
  });
  fig.setHeight(fig.top + rows * cardH + 20);
  const vmax = absMax(layer.spatial.flat());
  const cards = gridRects({ x: 10, y: fig.top + 6, width: 1000, height: rows * cardH }, rows, cols, 10);
  const names = (i: number) => options.inputNames?.[i] ?? `in ${i}`;
  layer.spatial.forEach((perIn, o) => {
    const card = cards[o]!;
    const ins = shown[o]!;
    const mapW = (card.width - 10) / ins.length;
    const traces: { y: Float32Array; label: string }[] = [];
    ins.forEach((i, k) => {
      const [s, t] = centrePositive(perIn[i]!, layer.temporal[o]![i]!, layer.kh, layer.kw);
      fig.image(
        { x: card.x + k * mapW, y: card.y, width: mapW, height: card.height * 0.5 },
        { values: s, height: layer.kh, width: layer.kw },
        { cmap: 'RdBu_r', limits: [-vmax, vmax], title: `out ${o} · ${names(i)}`, fontSize: 10 },
      );
      traces.push({ y: t, label: names(i) });
    });
    const ax = fig.axes(
      { x: card.x, y: card.y + card.height * 0.5, width: card.width, height: card.height * 0.5 },
      {
        xLabel: 'Time before output [s]',
        fontSize: 9,
        legend: ins.length > 1 && o === 0 ? 'top-left' : 'none',
        margin: { top: 4, left: 38 },
      },
    );
    traces.forEach((tr, k) => {
      const L = tr.y.length;
      ax.line(
        Array.from({ length: L }, (_, j) => -(L - 1 - j) / fr),
        tr.y,
        { color: I === 2 && options.inputNames ? hex(channelStyle(2).colors[ins[k]!]!) : SERIES_COLORS[k]!, label: tr.label },
      );
    });
    ax.hline(0, { color: '#aaa', dash: '2 2' });
  });
  fig.colorbar({ x: 1030, y: fig.top + 20, width: 14, height: Math.min(300, rows * cardH - 40) }, 'RdBu_r', [-vmax, vmax], {
    label: 'Spatial weight',
  });
  return fig.toSvg();
}

export interface ReadoutFigureOptions {
  title?: string;
  /** A label per neuron (e.g. its cell type), written under its mask. */
  labels?: readonly string[];
}

/** A session's readout masks: every neuron's position over the core's output grid, and each mask (viridis, one scale). */
export function readoutMasksSvg(readout: ReadoutMasks, options: ReadoutFigureOptions = {}): string {
  const { masks, h, w } = readout;
  const n = masks.length;
  const cols = 8;
  const rows = Math.ceil(n / cols);
  const cell = 100;
  const fig = new Figure({
    width: 1180,
    height: 0,
    title: options.title ?? 'Readout masks',
    subtitle: `${n} neurons over the core's ${h}×${w} output grid (Gaussian masks)`,
  });
  fig.setHeight(Math.max(fig.top + 380, fig.top + rows * cell + 30));
  // left: positions of all neurons on the summed masks
  const sum = new Float32Array(h * w);
  for (const m of masks) for (let i = 0; i < h * w; i++) sum[i]! += m[i]!;
  const placed = fig.image(
    { x: 10, y: fig.top + 6, width: 330, height: 340 },
    { values: sum, height: h, width: w },
    {
      cmap: 'greys',
      title: 'All masks (sum) and centres',
      colorbar: 'Σ mask',
    },
  );
  const dots = masks.map((m, k) => {
    const c = centreOfMass(m, h, w);
    const cx = placed.x + c.x * placed.pixel;
    const cy = placed.y + c.y * placed.pixel;
    return (
      el('circle', { cx, cy, r: 4, fill: SERIES_COLORS[k % SERIES_COLORS.length], stroke: 'white', 'stroke-width': 1 }) +
      text(cx + 5, cy - 4, String(k), { size: 9, color: '#111' })
    );
  });
  fig.raw(el('g', { class: 'readout-centres', 'data-neurons': n }, dots.join('')));
  const vmax = absMax(masks);
  const cells = gridRects({ x: 380, y: fig.top + 6, width: 790, height: rows * cell }, rows, cols, 6);
  masks.forEach((m, k) => {
    fig.image(
      cells[k]!,
      { values: m, height: h, width: w },
      {
        cmap: 'viridis',
        limits: [0, vmax],
        title: `n${k}${options.labels?.[k] ? ` · ${options.labels[k]}` : ''}`,
        fontSize: 9,
      },
    );
  });
  return fig.toSvg();
}

export interface TuningFigureOptions {
  title?: string;
  /** Which neurons (default: all, at most 48). */
  neurons?: readonly number[];
  labels?: readonly string[];
}

/** Direction tuning as small polar plots, one per neuron, with its DSI and preferred direction (an arrow of length DSI). */
export function directionTuningSvg(t: DirectionTuning, options: TuningFigureOptions = {}): string {
  const neurons = options.neurons ?? Array.from({ length: Math.min(48, t.dsi.length) }, (_, i) => i);
  const cols = 8;
  const rows = Math.max(1, Math.ceil(neurons.length / cols));
  const cell = 170;
  const fig = new Figure({
    width: cols * 150 + 20,
    height: 0,
    title: options.title ?? 'Direction tuning (moving bar)',
    subtitle: 'Mean predicted response per direction; arrow: preferred direction, length = direction selectivity index (DSI)',
  });
  fig.setHeight(fig.top + rows * cell + 10);
  const cells = gridRects({ x: 10, y: fig.top + 4, width: cols * 150, height: rows * cell }, rows, cols, 0);
  neurons.forEach((n, k) => {
    fig
      .polar(cells[k]!, t.directions, {
        title: `n${n}${options.labels?.[n] ? ` · ${options.labels[n]}` : ''} · DSI ${t.dsi[n]!.toFixed(2)}`,
        fontSize: 9,
        id: `tuning-${n}`,
      })
      .add({ values: t.means.map((m) => m[n]!), color: '#1f77b4', arrow: t.preferred[n]!, arrowLength: t.dsi[n]! });
  });
  return fig.toSvg();
}

export interface RoiAnimationOptions {
  title?: string;
  frameRate?: number;
  /** Draw every `step`-th output frame (default: at most 60 frames). */
  step?: number;
  /** Input frames before output frame 0 (the model's `framesCut`), for the time labels. */
  framesCut?: number;
  /** What the activity answers, e.g. "chirp". */
  stimulus?: string;
}

/**
 * OpenRetina's ROI animation for a model: each neuron a disc at its readout position (sized by its mask's spread),
 * brightness = its predicted response (viridis, one scale), one SVG per shown frame with a label strip.
 */
export function roiFrameSvgs(readout: ReadoutMasks, activity: ResponseTrace, options: RoiAnimationOptions = {}): string[] {
  const { masks, h, w } = readout;
  const fr = options.frameRate ?? 30;
  const step = options.step ?? Math.max(1, Math.ceil(activity.frames / 60));
  const px = Math.max(14, Math.ceil(300 / w));
  const strip = 40;
  const W = w * px + 70;
  const H = h * px + strip + 8;
  let max = 0;
  for (let i = 0; i < activity.data.length; i++) max = Math.max(max, activity.data[i]!);
  max ||= 1;
  const geometry = masks.map((m) => {
    const c = centreOfMass(m, h, w);
    let s = 0;
    let v = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const a = Math.max(0, m[y * w + x]!);
        s += a;
        v += a * ((x + 0.5 - c.x) ** 2 + (y + 0.5 - c.y) ** 2);
      }
    // a disc of about the mask's spread, small enough that neighbours stay apart
    return { ...c, r: Math.max(0.2, Math.min(0.5, 0.5 * Math.sqrt(s > 0 ? v / s : 0.25))) };
  });
  const cmap = colormap('viridis');
  const out: string[] = [];
  for (let f = 0; f < activity.frames; f += step) {
    const fig = new Figure({ width: W, height: H, fontSize: 11, background: 'white' });
    fig.raw(el('rect', { x: 0, y: strip, width: w * px, height: h * px, fill: '#111' }));
    const discs = geometry.map((g, n) => {
      const a = activity.data[f * activity.neurons + n]! / max;
      return el('circle', { cx: g.x * px, cy: strip + g.y * px, r: g.r * px, fill: hex(viridis(a)), 'fill-opacity': 0.9 });
    });
    fig.raw(el('g', { 'data-frame': f }, discs.join('')));
    fig.colorbar({ x: w * px + 8, y: strip, width: 10, height: h * px }, cmap, [0, max], { label: 'Rate', fontSize: 9 });
    if (options.title) fig.text(4, 14, options.title, { weight: 'bold' });
    const t = (f + (options.framesCut ?? 0)) / fr;
    fig.text(4, 32, `${options.stimulus ? `${options.stimulus} · ` : ''}t = ${t.toFixed(2)} s (output frame ${f + 1}/${activity.frames})`, {
      size: 10,
      color: '#333',
    });
    out.push(fig.toSvg());
  }
  return out;
}
