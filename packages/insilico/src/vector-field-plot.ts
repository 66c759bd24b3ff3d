import { divergingColor, hex, viridis } from '@openretina/plot';
import type { BinnedVectorField } from './lsta.js';
import type { GradientGrid } from './tuning.js';

function arrow(x0: number, y0: number, x1: number, y1: number, color: string, head: number): string {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len = Math.hypot(dx, dy);
  if (!(len > 0)) return '';
  const ux = dx / len;
  const uy = dy / len;
  const hx = x1 - ux * head;
  const hy = y1 - uy * head;
  const px = -uy * head * 0.5;
  const py = ux * head * 0.5;
  const f = (v: number) => v.toFixed(2);
  return `<line x1="${f(x0)}" y1="${f(y0)}" x2="${f(hx)}" y2="${f(hy)}" stroke="${color}" stroke-width="1.2"/><polygon points="${f(x1)},${f(y1)} ${f(hx + px)},${f(hy + py)} ${f(hx - px)},${f(hy - py)}" fill="${color}"/>`;
}

function heatmap(values: ArrayLike<number>, h: number, w: number, x: number, y: number, size: number, title: string): string {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  const px = size / Math.max(h, w);
  const cells: string[] = [`<text x="${x + (w * px) / 2}" y="${y - 6}" text-anchor="middle" font-size="14">${title}</text>`];
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      cells.push(
        `<rect x="${(x + j * px).toFixed(2)}" y="${(y + i * px).toFixed(2)}" width="${px.toFixed(2)}" height="${px.toFixed(2)}" fill="${hex(divergingColor(values[i * w + j]!, m, 'bwr'))}"/>`,
      );
    }
  return cells.join('');
}

export interface VectorFieldPlotOptions {
  /** PC images `[H·W]` drawn as insets (bwr, symmetric), with their explained variance. */
  pcs?: { pc1: ArrayLike<number>; pc2: ArrayLike<number>; height: number; width: number; explainedVariance?: readonly [number, number] };
  size?: number;
}

/**
 * `plot_clean_vectorfield` as SVG: arrows from each bin's image projection along its LSTA projection, scaled like
 * matplotlib's `quiver(scale_units="xy", scale=heads.max())`; the PC axes as arrows through the origin; the mean response
 * per bin (when given) as viridis discs under the arrows (OpenRetina interpolates them with griddata instead); PC insets.
 */
export function vectorFieldSvg(field: BinnedVectorField, options: VectorFieldPlotOptions = {}): string {
  const size = options.size ?? 800;
  let headMax = Number.NEGATIVE_INFINITY;
  for (const [a, b] of field.heads) headMax = Math.max(headMax, a, b);
  if (!(headMax > 0)) headMax = 1;
  let lim = 0;
  for (const [a, b] of field.tails) lim = Math.max(lim, Math.abs(a), Math.abs(b));
  for (const [a, b] of field.binCenters) lim = Math.max(lim, Math.abs(a), Math.abs(b));
  lim = (lim || 1) * 1.1;
  const sx = (v: number) => ((v + lim) / (2 * lim)) * size;
  const sy = (v: number) => size - ((v + lim) / (2 * lim)) * size;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" font-family="sans-serif">`,
    `<rect width="${size}" height="${size}" fill="white"/>`,
  ];
  if (field.responses && field.responses.length > 0) {
    const lo = Math.min(...field.responses);
    const hi = Math.max(...field.responses);
    const r = (size / 62) * 1.2;
    field.tails.forEach(([a, b], k) => {
      parts.push(
        `<circle cx="${sx(a).toFixed(2)}" cy="${sy(b).toFixed(2)}" r="${r.toFixed(2)}" fill="${hex(viridis(hi > lo ? (field.responses![k]! - lo) / (hi - lo) : 0.5))}" fill-opacity="0.4"/>`,
      );
    });
  }
  parts.push(arrow(sx(-lim * 0.75), sy(0), sx(lim * 0.75), sy(0), 'black', size * 0.02));
  parts.push(arrow(sx(0), sy(-lim * 0.75), sx(0), sy(lim * 0.75), 'black', size * 0.02));
  field.tails.forEach(([a, b], k) => {
    const [u, v] = field.heads[k]!;
    parts.push(arrow(sx(a), sy(b), sx(a + u / headMax), sy(b + v / headMax), 'black', size * 0.008));
  });
  if (options.pcs) {
    const { pc1, pc2, height, width, explainedVariance: ev } = options.pcs;
    const inset = size * 0.15;
    const pct = (v: number | undefined) => (v === undefined ? '' : ` (${(v * 100).toFixed(1)}%)`);
    parts.push(heatmap(pc1, height, width, size * 0.825, size * 0.425, inset, `PC1${pct(ev?.[0])}`));
    parts.push(heatmap(pc2, height, width, size * 0.425, size * 0.025 + 20, inset, `PC2${pct(ev?.[1])}`));
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * `plot_vector_field_resp_iso` as SVG: the response over the (green, UV) contrast grid as a grey-scale map with
 * `nLines` iso-response bands, and a unit gradient arrow (length 0.1) at every inner grid point.
 */
export function gradientGridSvg(grid: GradientGrid, options: { size?: number; nLines?: number } = {}): string {
  const size = options.size ?? 600;
  const nLines = options.nLines ?? 10;
  const xs = grid.greenContrastValues;
  const ys = grid.uvContrastValues;
  const x0 = xs[0]!;
  const x1 = xs[xs.length - 1]!;
  const y0 = ys[0]!;
  const y1 = ys[ys.length - 1]!;
  const m = 60;
  const sx = (v: number) => m + ((v - x0) / (x1 - x0 || 1)) * (size - 2 * m);
  const sy = (v: number) => size - m - ((v - y0) / (y1 - y0 || 1)) * (size - 2 * m);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const row of grid.respGrid)
    for (const v of row) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" font-family="sans-serif" font-size="13">`,
    `<rect width="${size}" height="${size}" fill="white"/>`,
  ];
  const cw = (size - 2 * m) / Math.max(1, xs.length - 1);
  const ch = (size - 2 * m) / Math.max(1, ys.length - 1);
  xs.forEach((g, i) =>
    ys.forEach((u, j) => {
      const level = hi > lo ? Math.min(nLines - 1, Math.floor(((grid.respGrid[i]![j]! - lo) / (hi - lo)) * nLines)) : 0;
      const grey = Math.round(245 - (level / Math.max(1, nLines - 1)) * 180);
      parts.push(
        `<rect x="${(sx(g) - cw / 2).toFixed(2)}" y="${(sy(u) - ch / 2).toFixed(2)}" width="${cw.toFixed(2)}" height="${ch.toFixed(2)}" fill="rgb(${grey},${grey},${grey})"/>`,
      );
    }),
  );
  for (let i = 1; i < xs.length - 1; i++)
    for (let j = 1; j < ys.length - 1; j++) {
      const gx = grid.grid[0][i]![j]!;
      const gy = grid.grid[1][i]![j]!;
      const n = Math.hypot(gx, gy);
      if (!(n > 0)) continue;
      parts.push(arrow(sx(xs[i]!), sy(ys[j]!), sx(xs[i]! + (gx / n) * 0.1), sy(ys[j]! + (gy / n) * 0.1), '#d00', 5));
    }
  parts.push(`<text x="${size / 2}" y="${size - 15}" text-anchor="middle">Green contrast</text>`);
  parts.push(`<text x="18" y="${size / 2}" text-anchor="middle" transform="rotate(-90 18 ${size / 2})">UV contrast</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
