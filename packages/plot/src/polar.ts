// A polar panel for direction tuning: one closed polygon per series over the directions (degrees, 0° to the right,
// counter-clockwise), rings at half and full radius with the radius value written on the outer one.
import { SERIES_COLORS } from './colormaps.js';
import type { Rect } from './axes.js';
import { el, formatNumber, n2, text } from './svg.js';

export interface PolarOptions {
  title?: string;
  /** Largest radius (default: the largest value of every series). */
  rMax?: number;
  fontSize?: number;
  /** Label of the radius (e.g. "mean rate"), written under the panel. */
  rLabel?: string;
  id?: string;
}

export interface PolarSeries {
  values: ArrayLike<number>;
  color?: string;
  label?: string;
  /** A line from the centre towards this direction (degrees), e.g. the preferred direction; length = `arrowLength` (0…1). */
  arrow?: number;
  arrowLength?: number;
}

export class PolarAxes {
  private readonly series: PolarSeries[] = [];

  constructor(
    readonly rect: Rect,
    readonly directions: readonly number[],
    readonly options: PolarOptions = {},
  ) {}

  add(series: PolarSeries): this {
    this.series.push(series);
    return this;
  }

  render(): string {
    const fs = this.options.fontSize ?? 11;
    const top = this.options.title ? fs * 2 : fs * 0.5;
    const bottom = this.options.rLabel ? fs * 1.8 : fs * 0.5;
    const legendH = this.series.some((s) => s.label) ? fs * 1.4 * Math.ceil(this.series.length / 2) : 0;
    const cx = this.rect.x + this.rect.width / 2;
    const avail = Math.min(this.rect.width - fs * 5, this.rect.height - top - bottom - legendH - fs * 3);
    const R = Math.max(10, avail / 2);
    const cy = this.rect.y + top + fs * 1.4 + R;
    let max = this.options.rMax ?? 0;
    if (this.options.rMax === undefined)
      for (const s of this.series) for (let i = 0; i < s.values.length; i++) max = Math.max(max, s.values[i]!);
    if (!(max > 0)) max = 1;
    const p = (deg: number, r: number) => [cx + r * Math.cos((deg * Math.PI) / 180), cy - r * Math.sin((deg * Math.PI) / 180)] as const;
    const parts: string[] = [];
    const grid = [0.5, 1].map((f) => el('circle', { cx, cy, r: R * f }));
    for (const d of this.directions) {
      const [x2, y2] = p(d, R);
      grid.push(el('line', { x1: cx, y1: cy, x2, y2 }));
      const [tx, ty] = p(d, R + fs * 1.3);
      parts.push(text(tx, ty, `${formatNumber(d)}°`, { size: fs * 0.9, anchor: 'middle', baseline: 'middle', color: '#444' }));
    }
    parts.unshift(el('g', { stroke: '#ccc', fill: 'none' }, grid.join('')));
    const [mx, my] = p(22.5, R);
    parts.push(text(mx + 3, my - 3, formatNumber(max), { size: fs * 0.85, color: '#666' }));
    const order = this.directions.map((d, i) => [d, i] as const).sort((a, b) => a[0] - b[0]);
    this.series.forEach((s, k) => {
      const color = s.color ?? SERIES_COLORS[k % SERIES_COLORS.length]!;
      const pts = order.map(([d, i]) =>
        p(d, (Math.max(0, s.values[i] ?? 0) / max) * R)
          .map(n2)
          .join(','),
      );
      parts.push(
        el('polygon', {
          points: pts.join(' '),
          fill: color,
          'fill-opacity': 0.15,
          stroke: color,
          'stroke-width': 1.5,
          'data-points': pts.length,
          'data-label': s.label,
        }),
      );
      if (s.arrow !== undefined) {
        const [x2, y2] = p(s.arrow, R * Math.max(0, Math.min(1, s.arrowLength ?? 1)));
        parts.push(el('line', { x1: cx, y1: cy, x2, y2, stroke: color, 'stroke-width': 2 }));
      }
    });
    const labelled = this.series.filter((s) => s.label);
    labelled.forEach((s, k) => {
      const col = k % 2;
      const row = Math.floor(k / 2);
      const lx = this.rect.x + fs + col * (this.rect.width / 2);
      const ly = cy + R + fs * 2.6 + row * fs * 1.4;
      const color = s.color ?? SERIES_COLORS[this.series.indexOf(s) % SERIES_COLORS.length]!;
      parts.push(el('rect', { x: lx, y: ly - fs * 0.45, width: fs, height: fs * 0.8, fill: color }));
      parts.push(text(lx + fs * 1.4, ly, s.label!, { size: fs, baseline: 'middle' }));
    });
    if (this.options.title)
      parts.push(text(cx, this.rect.y + fs * 1.3, this.options.title, { size: fs * 1.15, anchor: 'middle', weight: 'bold' }));
    if (this.options.rLabel)
      parts.push(text(cx, this.rect.y + this.rect.height - fs * 0.4, this.options.rLabel, { size: fs, anchor: 'middle', color: '#444' }));
    return el('g', { class: 'polar', 'data-panel': this.options.id, 'data-series': this.series.length }, parts.join(''));
  }
}
