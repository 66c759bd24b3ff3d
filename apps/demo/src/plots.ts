import type { Movie } from '@openretina/contracts';

const SVG = 'http://www.w3.org/2000/svg';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

function el<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  parent?: Element,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

export interface Series {
  y: ArrayLike<number>;
  /** x of the first sample, and step (default 0 and 1). */
  x0?: number;
  dx?: number;
  color: string;
  label: string;
}

/**
 * A line plot in an `<svg>` (replaces its content). Each series is a `<path data-points=n>`; the svg gets
 * `data-series` and `data-points` (total samples), which the end-to-end test reads.
 */
export function linePlot(
  svg: SVGSVGElement,
  series: readonly Series[],
  opts: { xLabel?: string; yLabel?: string; xMax?: number; compact?: boolean } = {},
): void {
  svg.replaceChildren();
  const W = svg.clientWidth || Number(svg.getAttribute('width')) || 600;
  const H = svg.clientHeight || Number(svg.getAttribute('height')) || 220;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const m = opts.compact ? { l: 4, r: 4, t: 4, b: 4 } : { l: 48, r: 10, t: 10, b: 32 };
  let xmin = Infinity,
    xmax = -Infinity,
    ymin = Infinity,
    ymax = -Infinity;
  let points = 0;
  for (const s of series) {
    const x0 = s.x0 ?? 0,
      dx = s.dx ?? 1;
    xmin = Math.min(xmin, x0);
    xmax = Math.max(xmax, x0 + dx * (s.y.length - 1));
    for (let i = 0; i < s.y.length; i++) {
      const v = s.y[i]!;
      if (Number.isFinite(v)) [ymin, ymax] = [Math.min(ymin, v), Math.max(ymax, v)];
    }
    points += s.y.length;
  }
  if (opts.xMax !== undefined) xmax = Math.max(xmax, opts.xMax);
  if (!Number.isFinite(xmin)) [xmin, xmax] = [0, 1];
  if (!Number.isFinite(ymin)) [ymin, ymax] = [0, 1];
  if (ymax - ymin < 1e-9) [ymin, ymax] = [ymin - 0.5, ymax + 0.5];
  if (xmax - xmin < 1e-9) xmax = xmin + 1;
  const sx = (x: number) => m.l + ((x - xmin) / (xmax - xmin)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - ymin) / (ymax - ymin)) * (H - m.t - m.b);
  const axes = el('g', { class: 'axes', stroke: '#888', 'stroke-width': 1 }, svg);
  if (opts.compact && ymin < 0 && ymax > 0) el('line', { x1: m.l, y1: sy(0), x2: W - m.r, y2: sy(0), stroke: '#ddd' }, svg);
  el('line', { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b }, axes);
  el('line', { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b }, axes);
  const ticks = el('g', { class: 'ticks', 'font-size': 10, fill: '#555' }, svg);
  for (let k = 0; k <= (opts.compact ? -1 : 4); k++) {
    const xv = xmin + ((xmax - xmin) * k) / 4;
    const yv = ymin + ((ymax - ymin) * k) / 4;
    el('text', { x: sx(xv), y: H - m.b + 12, 'text-anchor': 'middle' }, ticks).textContent = fmt(xv);
    el('text', { x: m.l - 4, y: sy(yv) + 3, 'text-anchor': 'end' }, ticks).textContent = fmt(yv);
  }
  if (opts.xLabel)
    el('text', { x: (m.l + W - m.r) / 2, y: H - 4, 'text-anchor': 'middle', 'font-size': 11 }, svg).textContent = opts.xLabel;
  if (opts.yLabel)
    el(
      'text',
      { x: 12, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', 'font-size': 11, transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` },
      svg,
    ).textContent = opts.yLabel;
  series.forEach((s, k) => {
    const x0 = s.x0 ?? 0,
      dx = s.dx ?? 1;
    let d = '';
    for (let i = 0; i < s.y.length; i++) d += `${i === 0 ? 'M' : 'L'}${sx(x0 + i * dx).toFixed(1)},${sy(s.y[i]!).toFixed(1)}`;
    el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 1.5, 'data-points': s.y.length, 'data-label': s.label }, svg);
    if (s.label)
      el('text', { x: W - m.r - 4, y: m.t + 12 + 12 * k, 'text-anchor': 'end', 'font-size': 11, fill: s.color }, svg).textContent = s.label;
  });
  el(
    'line',
    { class: 'cursor', x1: sx(xmin), x2: sx(xmin), y1: m.t, y2: H - m.b, stroke: '#000', 'stroke-dasharray': '3 3', visibility: 'hidden' },
    svg,
  );
  svg.dataset.series = String(series.length);
  svg.dataset.points = String(points);
  svg.dataset.xmin = String(xmin);
  svg.dataset.xmax = String(xmax);
  svg.dataset.ml = String(m.l);
  svg.dataset.mr = String(m.r);
}

/** Moves the dashed time cursor of a {@link linePlot} to x. */
export function setCursor(svg: SVGSVGElement, x: number): void {
  const line = svg.querySelector('line.cursor');
  if (!line) return;
  const W = svg.viewBox.baseVal?.width || 600;
  const xmin = Number(svg.dataset.xmin),
    xmax = Number(svg.dataset.xmax),
    l = Number(svg.dataset.ml),
    r = Number(svg.dataset.mr);
  const px = l + ((x - xmin) / (xmax - xmin)) * (W - l - r);
  line.setAttribute('x1', String(px));
  line.setAttribute('x2', String(px));
  line.setAttribute('visibility', 'visible');
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e4) ? v.toExponential(1) : String(Math.round(v * 100) / 100);
}

/** A polar plot of responses per direction (degrees), one closed polygon per series. */
export function polarPlot(
  svg: SVGSVGElement,
  directions: readonly number[],
  series: readonly { values: ArrayLike<number>; color: string; label: string }[],
): void {
  svg.replaceChildren();
  const S = 260;
  svg.setAttribute('viewBox', `0 0 ${S} ${S}`);
  const c = S / 2,
    R = S / 2 - 28;
  let max = 0;
  for (const s of series) for (let i = 0; i < s.values.length; i++) max = Math.max(max, s.values[i]!);
  if (max <= 0) max = 1;
  const g = el('g', { stroke: '#ccc', fill: 'none' }, svg);
  for (const f of [0.5, 1]) el('circle', { cx: c, cy: c, r: R * f }, g);
  for (const d of directions) {
    const th = (d * Math.PI) / 180;
    el('line', { x1: c, y1: c, x2: c + R * Math.cos(th), y2: c - R * Math.sin(th) }, g);
    el(
      'text',
      {
        x: c + (R + 14) * Math.cos(th),
        y: c - (R + 14) * Math.sin(th) + 4,
        'text-anchor': 'middle',
        'font-size': 10,
        fill: '#555',
        stroke: 'none',
      },
      svg,
    ).textContent = `${d}°`;
  }
  const order = directions.map((d, i) => [d, i] as const).sort((a, b) => a[0] - b[0]);
  series.forEach((s, k) => {
    const pts = order.map(([d, i]) => {
      const r = (Math.max(0, s.values[i]!) / max) * R;
      const th = (d * Math.PI) / 180;
      return `${(c + r * Math.cos(th)).toFixed(1)},${(c - r * Math.sin(th)).toFixed(1)}`;
    });
    el(
      'polygon',
      { points: pts.join(' '), fill: s.color, 'fill-opacity': 0.15, stroke: s.color, 'stroke-width': 1.5, 'data-points': pts.length },
      svg,
    );
    el('text', { x: 4, y: 12 + 12 * k, 'font-size': 11, fill: s.color }, svg).textContent = s.label;
  });
  svg.dataset.series = String(series.length);
  svg.dataset.points = String(series.length * directions.length);
}

/** Diverging colour (blue – white – red) for v in [−1, 1]. */
function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, v));
  return t >= 0 ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))] : [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
}

/** Draws an h×w map into a canvas, scaled up, with a diverging colour map symmetric around 0 (or grey for 'positive'). */
export function heatmap(
  canvas: HTMLCanvasElement,
  map: ArrayLike<number>,
  h: number,
  w: number,
  mode: 'diverging' | 'positive' = 'diverging',
): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  let max = 0;
  for (let i = 0; i < h * w; i++) max = Math.max(max, Math.abs(map[i]!));
  max ||= 1;
  for (let i = 0; i < h * w; i++) {
    const v = map[i]! / max;
    const [r, g, b] =
      mode === 'diverging' ? diverging(v) : [Math.round(255 * (1 - v)), Math.round(255 * (1 - v)), Math.round(255 * (1 - v))];
    img.data.set([r, g, b, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * Draws frame f of a movie: channel 0 as green, channel 1 (UV) as blue-violet, others averaged into grey.
 * `scale` maps values to [0, 1] as (v·scale + 1)/2 (scale 1 for stimuli in [−1, 1]).
 */
export function drawFrame(canvas: HTMLCanvasElement, movie: Movie, f: number, scale = 1): void {
  const [, h, w, c] = movie.shape;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  const base = f * h * w * c;
  const u = (v: number) => Math.round(255 * Math.max(0, Math.min(1, (v * scale + 1) / 2)));
  for (let p = 0; p < h * w; p++) {
    const v0 = movie.data[base + p * c]!;
    let rgb: [number, number, number];
    if (c === 1) rgb = [u(v0), u(v0), u(v0)];
    else {
      const v1 = movie.data[base + p * c + 1]!;
      rgb = [Math.round(u(v1) * 0.55), u(v0), u(v1)];
    }
    img.data.set([...rgb, 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
}

/** Largest |value| of a movie (to scale MEIs for display). */
export function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]!));
  return m;
}
