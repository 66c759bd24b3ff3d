// A cartesian panel: marks are collected first, the domains come from the data (unless given), then it renders.
import { colormap, SERIES_COLORS, type Colormap, type ColormapName } from './colormaps.js';
import { colorize, mapLimits, pngDataUri, type MapData } from './image.js';
import { extent, Scale, tickLabels, type ScaleType } from './scale.js';
import { el, escapeXml, formatNumber, n2, text, textWidth, type TextStyle } from './svg.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface AxesOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  xDomain?: readonly [number, number];
  yDomain?: readonly [number, number];
  xScale?: ScaleType;
  yScale?: ScaleType;
  /** Explicit tick positions (and optional labels, e.g. categories). */
  xTicks?: readonly number[];
  xTickLabels?: readonly string[];
  yTicks?: readonly number[];
  yTickLabels?: readonly string[];
  /** Light grid lines at the ticks (default true). */
  grid?: boolean;
  /** Where the legend goes (default top-right; drawn when a mark has a label). */
  legend?: 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'none';
  /** Space around the plotting area for the title, ticks and labels (defaults fit 11 px text). */
  margin?: Partial<Margins>;
  fontSize?: number;
  /** A `data-*` attribute set on the panel's group (e.g. for tests that find it). */
  id?: string;
}

export interface LineStyle {
  color?: string;
  width?: number;
  dash?: string;
  opacity?: number;
  label?: string;
}

export interface PointStyle {
  color?: string;
  radius?: number;
  opacity?: number;
  label?: string;
  /** A tooltip per point (shown by browsers on hover). */
  titles?: readonly string[];
}

export interface BarStyle {
  color?: string;
  opacity?: number;
  label?: string;
  /** Bar width in data units (default: 80 % of the smallest gap between x values). */
  width?: number;
}

export interface HistogramOptions {
  bins?: number;
  range?: readonly [number, number];
  color?: string;
  opacity?: number;
  label?: string;
}

export interface HeatmapOptions {
  cmap?: ColormapName | Colormap;
  limits?: readonly [number, number];
  /** Data coordinates of the map's edges `[x0, x1, y0, y1]` (default: pixel indices, row 0 at the top). */
  extent?: readonly [number, number, number, number];
}

interface Mark {
  xs: number[];
  ys: number[];
  draw(sx: Scale, sy: Scale): string;
  legend?: { label: string; color: string; kind: 'line' | 'box' | 'dot'; dash?: string };
}

const finite = (a: ArrayLike<number>): number[] => Array.from(a).filter(Number.isFinite);

/** A cartesian panel of a {@link Figure}: lines, points, bars, histograms, shaded spans, heatmaps, with axes. */
export class Axes {
  private readonly marks: Mark[] = [];
  private nextColor = 0;
  readonly inner: Rect;
  readonly fontSize: number;

  constructor(
    readonly rect: Rect,
    readonly options: AxesOptions = {},
  ) {
    this.fontSize = options.fontSize ?? 11;
    const m: Margins = {
      top: options.title ? this.fontSize * 2.2 : 8,
      right: 12,
      bottom: options.xLabel ? this.fontSize * 3.4 : this.fontSize * 2,
      left: options.yLabel ? this.fontSize * 5.2 : this.fontSize * 3.8,
      ...options.margin,
    };
    this.inner = {
      x: rect.x + m.left,
      y: rect.y + m.top,
      width: Math.max(10, rect.width - m.left - m.right),
      height: Math.max(10, rect.height - m.top - m.bottom),
    };
  }

  private color(c: string | undefined): string {
    return c ?? SERIES_COLORS[this.nextColor++ % SERIES_COLORS.length]!;
  }

  /** A polyline through the finite points (NaN breaks the line). */
  line(x: ArrayLike<number>, y: ArrayLike<number>, style: LineStyle = {}): this {
    const color = this.color(style.color);
    const n = Math.min(x.length, y.length);
    const xs = Array.from({ length: n }, (_, i) => x[i]!);
    const ys = Array.from({ length: n }, (_, i) => y[i]!);
    this.marks.push({
      xs,
      ys,
      draw: (sx, sy) => {
        let d = '';
        let pen = false;
        for (let i = 0; i < n; i++) {
          if (!Number.isFinite(xs[i]!) || !Number.isFinite(ys[i]!)) {
            pen = false;
            continue;
          }
          d += `${pen ? 'L' : 'M'}${n2(sx.map(xs[i]!))},${n2(sy.map(ys[i]!))}`;
          pen = true;
        }
        return el('path', {
          d: d || 'M0,0',
          fill: 'none',
          stroke: color,
          'stroke-width': style.width ?? 1.5,
          'stroke-dasharray': style.dash,
          'stroke-opacity': style.opacity,
          'stroke-linejoin': 'round',
          'data-points': n,
          'data-label': style.label,
        });
      },
      ...(style.label ? { legend: { label: style.label, color, kind: 'line' as const, ...(style.dash ? { dash: style.dash } : {}) } } : {}),
    });
    return this;
  }

  scatter(x: ArrayLike<number>, y: ArrayLike<number>, style: PointStyle = {}): this {
    const color = this.color(style.color);
    const n = Math.min(x.length, y.length);
    const xs = Array.from({ length: n }, (_, i) => x[i]!);
    const ys = Array.from({ length: n }, (_, i) => y[i]!);
    this.marks.push({
      xs,
      ys,
      draw: (sx, sy) =>
        xs
          .map((xv, i) =>
            Number.isFinite(xv) && Number.isFinite(ys[i]!)
              ? el(
                  'circle',
                  { cx: sx.map(xv), cy: sy.map(ys[i]!), r: style.radius ?? 3, fill: color, 'fill-opacity': style.opacity ?? 0.8 },
                  style.titles?.[i] === undefined ? undefined : el('title', {}, escapeXml(style.titles[i]!)),
                )
              : '',
          )
          .join(''),
      ...(style.label ? { legend: { label: style.label, color, kind: 'dot' as const } } : {}),
    });
    return this;
  }

  /** Vertical bars from 0 (or the axis bottom on a log scale) to each height. */
  bars(x: ArrayLike<number>, heights: ArrayLike<number>, style: BarStyle = {}): this {
    const color = this.color(style.color);
    const xs = Array.from(x);
    const hs = Array.from(heights);
    let width = style.width;
    if (width === undefined) {
      const sorted = [...xs].sort((a, b) => a - b);
      let gap = Number.POSITIVE_INFINITY;
      for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, sorted[i]! - sorted[i - 1]!);
      width = (Number.isFinite(gap) && gap > 0 ? gap : 1) * 0.8;
    }
    const w = width;
    this.marks.push({
      xs: [...xs.map((v) => v - w / 2), ...xs.map((v) => v + w / 2)],
      ys: [0, ...hs],
      draw: (sx, sy) =>
        xs
          .map((xv, i) => {
            const a = sx.map(xv - w / 2);
            const b = sx.map(xv + w / 2);
            const y0 = sy.map(sy.type === 'log' ? sy.domain[0] : 0);
            const y1 = sy.map(hs[i]!);
            return el('rect', {
              x: Math.min(a, b),
              y: Math.min(y0, y1),
              width: Math.abs(b - a),
              height: Math.abs(y1 - y0),
              fill: color,
              'fill-opacity': style.opacity,
            });
          })
          .join(''),
      ...(style.label ? { legend: { label: style.label, color, kind: 'box' as const } } : {}),
    });
    return this;
  }

  /** A histogram of the finite values (equal bins over `range`, default the data's min…max). */
  histogram(values: ArrayLike<number>, options: HistogramOptions = {}): { edges: number[]; counts: number[] } {
    const v = finite(values);
    const bins = Math.max(1, options.bins ?? 20);
    const [lo, hi] = options.range ?? (v.length ? [Math.min(...v), Math.max(...v) || Math.min(...v) + 1] : [0, 1]);
    const width = (hi - lo || 1) / bins;
    const counts = new Array<number>(bins).fill(0);
    for (const x of v) {
      if (x < lo || x > hi) continue;
      counts[Math.min(bins - 1, Math.floor((x - lo) / width))]! += 1;
    }
    const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
    this.bars(
      counts.map((_, i) => lo + (i + 0.5) * width),
      counts,
      {
        width,
        ...(options.color ? { color: options.color } : {}),
        opacity: options.opacity ?? 0.85,
        ...(options.label ? { label: options.label } : {}),
      },
    );
    return { edges, counts };
  }

  /** A shaded band between x0 and x1 over the whole height. */
  span(x0: number, x1: number, style: { color?: string; opacity?: number } = {}): this {
    this.marks.push({
      xs: [x0, x1],
      ys: [],
      draw: (sx, sy) =>
        el('rect', {
          x: Math.min(sx.map(x0), sx.map(x1)),
          y: Math.min(sy.range[0], sy.range[1]),
          width: Math.abs(sx.map(x1) - sx.map(x0)),
          height: Math.abs(sy.range[0] - sy.range[1]),
          fill: style.color ?? '#000',
          'fill-opacity': style.opacity ?? 0.1,
        }),
    });
    return this;
  }

  hline(y: number, style: LineStyle = {}): this {
    this.marks.push({
      xs: [],
      ys: [y],
      draw: (sx, sy) =>
        el('line', {
          x1: sx.range[0],
          x2: sx.range[1],
          y1: sy.map(y),
          y2: sy.map(y),
          stroke: style.color ?? '#888',
          'stroke-width': style.width ?? 1,
          'stroke-dasharray': style.dash ?? '4 3',
        }),
      ...(style.label
        ? { legend: { label: style.label, color: style.color ?? '#888', kind: 'line' as const, dash: style.dash ?? '4 3' } }
        : {}),
    });
    return this;
  }

  vline(x: number, style: LineStyle = {}): this {
    this.marks.push({
      xs: [x],
      ys: [],
      draw: (sx, sy) =>
        el('line', {
          x1: sx.map(x),
          x2: sx.map(x),
          y1: sy.range[0],
          y2: sy.range[1],
          stroke: style.color ?? '#888',
          'stroke-width': style.width ?? 1,
          'stroke-dasharray': style.dash ?? '4 3',
        }),
      ...(style.label
        ? { legend: { label: style.label, color: style.color ?? '#888', kind: 'line' as const, dash: style.dash ?? '4 3' } }
        : {}),
    });
    return this;
  }

  /** Text at a data position. */
  annotate(x: number, y: number, content: string, style: TextStyle = {}): this {
    this.marks.push({ xs: [x], ys: [y], draw: (sx, sy) => text(sx.map(x), sy.map(y), content, { size: this.fontSize, ...style }) });
    return this;
  }

  /** A colour-mapped map stretched over `extent` (pixel indices by default); returns the colour limits used. */
  heatmap(map: MapData, options: HeatmapOptions = {}): { cmap: Colormap; limits: [number, number] } {
    const cmap = typeof options.cmap === 'object' ? options.cmap : colormap(options.cmap ?? 'viridis');
    const limits: [number, number] = options.limits ? [options.limits[0], options.limits[1]] : mapLimits(map.values, cmap);
    const [x0, x1, y0, y1] = options.extent ?? [-0.5, map.width - 0.5, map.height - 0.5, -0.5];
    const uri = pngDataUri({ data: colorize(map, cmap, limits), width: map.width, height: map.height }, this.inner.width);
    this.marks.push({
      xs: [x0, x1],
      ys: [y0, y1],
      draw: (sx, sy) => {
        const a = sx.map(x0);
        const b = sx.map(x1);
        const top = sy.map(Math.max(y0, y1) === y0 ? y0 : y1);
        const bottom = sy.map(Math.max(y0, y1) === y0 ? y1 : y0);
        return el('image', {
          x: Math.min(a, b),
          y: Math.min(top, bottom),
          width: Math.abs(b - a),
          height: Math.abs(bottom - top),
          preserveAspectRatio: 'none',
          href: uri,
        });
      },
    });
    return { cmap, limits };
  }

  private scales(): { sx: Scale; sy: Scale } {
    const o = this.options;
    const xDomain =
      o.xDomain ??
      extent(
        this.marks.flatMap((m) => m.xs),
        0.02,
      );
    const ys = this.marks.flatMap((m) => m.ys).filter((v) => Number.isFinite(v) && (o.yScale !== 'log' || v > 0));
    const yDomain: [number, number] = o.yDomain ? [o.yDomain[0], o.yDomain[1]] : extent(ys, 0.06);
    // Counts and other non-negative data start at the axis (no padding below 0).
    if (!o.yDomain && o.yScale !== 'log' && ys.length > 0 && ys.reduce((a, b) => Math.min(a, b)) === 0) yDomain[0] = 0;
    const { x, y, width, height } = this.inner;
    return {
      sx: new Scale([xDomain[0], xDomain[1]], [x, x + width], o.xScale ?? 'linear'),
      sy: new Scale([yDomain[0], yDomain[1]], [y + height, y], o.yScale ?? 'linear'),
    };
  }

  render(): string {
    const o = this.options;
    const fs = this.fontSize;
    const { sx, sy } = this.scales();
    const { x, y, width, height } = this.inner;
    const parts: string[] = [];
    const inside = (v: number, s: Scale) => v >= Math.min(...s.domain) - 1e-12 && v <= Math.max(...s.domain) + 1e-12;
    const xt = (o.xTicks ?? sx.ticks(Math.max(2, Math.floor(width / 70)))).filter((v) => inside(v, sx));
    const yt = (o.yTicks ?? sy.ticks(Math.max(2, Math.floor(height / 40)))).filter((v) => inside(v, sy));
    const xl = o.xTickLabels ?? (sx.type === 'log' ? xt.map((v) => formatNumber(v)) : tickLabels(xt));
    const yl = o.yTickLabels ?? (sy.type === 'log' ? yt.map((v) => formatNumber(v)) : tickLabels(yt));
    if (o.grid !== false) {
      const g = [
        ...xt.map((v) => el('line', { x1: sx.map(v), x2: sx.map(v), y1: y, y2: y + height })),
        ...yt.map((v) => el('line', { x1: x, x2: x + width, y1: sy.map(v), y2: sy.map(v) })),
      ];
      parts.push(el('g', { stroke: '#e6e6e6', 'stroke-width': 1 }, g.join('')));
    }
    const clip = `clip${Math.round(x)}_${Math.round(y)}_${Math.round(width)}_${Math.round(height)}`;
    parts.push(el('clipPath', { id: clip }, el('rect', { x, y, width, height })));
    parts.push(el('g', { 'clip-path': `url(#${clip})` }, this.marks.map((m) => m.draw(sx, sy)).join('')));
    parts.push(el('rect', { x, y, width, height, fill: 'none', stroke: '#333', 'stroke-width': 1 }));
    const ticks: string[] = [];
    xt.forEach((v, i) => {
      const px = sx.map(v);
      ticks.push(el('line', { x1: px, x2: px, y1: y + height, y2: y + height + 4, stroke: '#333' }));
      ticks.push(text(px, y + height + 5, xl[i] ?? '', { size: fs, anchor: 'middle', baseline: 'hanging' }));
    });
    yt.forEach((v, i) => {
      const py = sy.map(v);
      ticks.push(el('line', { x1: x - 4, x2: x, y1: py, y2: py, stroke: '#333' }));
      ticks.push(text(x - 6, py, yl[i] ?? '', { size: fs, anchor: 'end', baseline: 'middle' }));
    });
    parts.push(el('g', { fill: '#222' }, ticks.join('')));
    if (o.title) parts.push(text(x + width / 2, y - fs * 0.8, o.title, { size: fs * 1.15, anchor: 'middle', weight: 'bold' }));
    if (o.xLabel) parts.push(text(x + width / 2, y + height + fs * 2.9, o.xLabel, { size: fs, anchor: 'middle' }));
    if (o.yLabel) {
      const widest = Math.max(0, ...yl.map((l) => textWidth(l, fs)));
      const lx = Math.max(this.rect.x + fs * 0.9, x - widest - fs * 1.4);
      parts.push(text(lx, y + height / 2, o.yLabel, { size: fs, anchor: 'middle', rotate: -90 }));
    }
    parts.push(this.legend());
    return el('g', { class: 'axes', 'data-panel': o.id }, parts.join(''));
  }

  private legend(): string {
    const items = this.marks.flatMap((m) => (m.legend ? [m.legend] : []));
    if (items.length === 0 || this.options.legend === 'none') return '';
    const fs = this.fontSize;
    const rowH = fs * 1.35;
    const w = Math.max(...items.map((i) => textWidth(i.label, fs))) + fs * 2.6;
    const h = items.length * rowH + fs * 0.5;
    const pos = this.options.legend ?? 'top-right';
    const { x, y, width, height } = this.inner;
    const lx = pos.endsWith('right') ? x + width - w - 4 : x + 4;
    const ly = pos.startsWith('top') ? y + 4 : y + height - h - 4;
    const rows = items.map((it, k) => {
      const cy = ly + fs * 0.25 + rowH * (k + 0.5);
      const swatch =
        it.kind === 'line'
          ? el('line', { x1: lx + 4, x2: lx + fs * 1.6, y1: cy, y2: cy, stroke: it.color, 'stroke-width': 2, 'stroke-dasharray': it.dash })
          : it.kind === 'dot'
            ? el('circle', { cx: lx + fs, cy, r: 3.5, fill: it.color })
            : el('rect', { x: lx + 4, y: cy - fs * 0.4, width: fs * 1.2, height: fs * 0.8, fill: it.color });
      return swatch + text(lx + fs * 2, cy, it.label, { size: fs, baseline: 'middle' });
    });
    return el(
      'g',
      { class: 'legend' },
      el('rect', { x: lx, y: ly, width: w, height: h, fill: 'white', 'fill-opacity': 0.85, stroke: '#bbb' }) + rows.join(''),
    );
  }
}
