// Axis scales and tick positions.
import { formatNumber } from './svg.js';

export type ScaleType = 'linear' | 'log';

/** Maps a data interval onto a pixel interval (linear or log10). */
export class Scale {
  constructor(
    readonly domain: readonly [number, number],
    readonly range: readonly [number, number],
    readonly type: ScaleType = 'linear',
  ) {}

  private t(v: number): number {
    return this.type === 'log' ? Math.log10(Math.max(v, Number.MIN_VALUE)) : v;
  }

  map(v: number): number {
    const a = this.t(this.domain[0]);
    const b = this.t(this.domain[1]);
    const u = b === a ? 0.5 : (this.t(v) - a) / (b - a);
    return this.range[0] + u * (this.range[1] - this.range[0]);
  }

  ticks(count = 5): number[] {
    return this.type === 'log' ? logTicks(this.domain) : niceTicks(this.domain[0], this.domain[1], count);
  }
}

/** Tick step 1, 2 or 5 × 10^k that gives about `count` ticks over [lo, hi]. */
export function niceStep(lo: number, hi: number, count = 5): number {
  const span = Math.abs(hi - lo) || Math.abs(lo) || 1;
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/** Ticks at multiples of a nice step inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const step = niceStep(lo, hi, count);
  const first = Math.ceil(Math.min(lo, hi) / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = first; v <= Math.max(lo, hi) + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return out;
}

/** Decades (and 2, 5 × decades when the range spans less than two decades). */
function logTicks([lo, hi]: readonly [number, number]): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const mult = b - a <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = a; e <= b; e++) for (const m of mult) out.push(m * 10 ** e);
  return out.filter((v) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9));
}

/** Domain of some values padded by a fraction, with a non-zero width; `[0, 1]` when there are no finite values. */
export function extent(values: Iterable<number>, pad = 0.05): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  if (hi === lo) return [lo - (Math.abs(lo) || 1) * 0.5, hi + (Math.abs(hi) || 1) * 0.5];
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

/** Tick labels for values of one axis, with a shared number of decimals. */
export function tickLabels(ticks: readonly number[]): string[] {
  if (ticks.length < 2) return ticks.map((t) => formatNumber(t));
  const step = Math.abs(ticks[1]! - ticks[0]!);
  const big = Math.max(...ticks.map(Math.abs));
  if (big >= 1e5 || (big > 0 && big < 1e-3)) return ticks.map((t) => formatNumber(t));
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return ticks.map((t) => t.toFixed(decimals));
}
