// The one home of colours in @openretina: every figure (reports, MEIs, the demo) takes its maps from here.
import { ConfigError } from '@openretina/contracts';

export type RGB = readonly [number, number, number];

/** A named colour map: `sequential` ones take [0, 1], `diverging` ones are centred on 0 (symmetric limits). */
export interface Colormap {
  readonly name: ColormapName;
  readonly kind: 'sequential' | 'diverging';
  /** Colour at `u` in [0, 1] (clamped; NaN gives the middle). */
  at(u: number): RGB;
}

export type ColormapName = 'viridis' | 'greys' | 'RdBu_r' | 'bwr';

// matplotlib's viridis sampled at 9 points (linear interpolation between them is within a few levels of the 256-entry table)
const VIRIDIS: RGB[] = [
  [68, 1, 84],
  [71, 45, 123],
  [59, 82, 139],
  [44, 114, 142],
  [33, 145, 140],
  [40, 174, 128],
  [94, 201, 98],
  [173, 220, 48],
  [253, 231, 37],
];
// matplotlib's RdBu (ColorBrewer, 11 steps) reversed: blue for negative, red for positive
const RDBU_R: RGB[] = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];
const BWR: RGB[] = [
  [0, 0, 255],
  [255, 255, 255],
  [255, 0, 0],
];
// white (low) to black (high), matplotlib's "Greys"
const GREYS: RGB[] = [
  [255, 255, 255],
  [0, 0, 0],
];

function ramp(stops: readonly RGB[], u: number): RGB {
  const x = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0.5)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

const MAPS: Record<ColormapName, { kind: Colormap['kind']; stops: readonly RGB[] }> = {
  viridis: { kind: 'sequential', stops: VIRIDIS },
  greys: { kind: 'sequential', stops: GREYS },
  RdBu_r: { kind: 'diverging', stops: RDBU_R },
  bwr: { kind: 'diverging', stops: BWR },
};

/** The colour map of that name (`viridis`, `greys`, diverging `RdBu_r` and `bwr`). */
export function colormap(name: ColormapName): Colormap {
  const m = MAPS[name];
  if (!m) throw new ConfigError(`Unknown colour map "${String(name)}"; expected one of ${Object.keys(MAPS).join(', ')}.`);
  return { name, kind: m.kind, at: (u) => ramp(m.stops, u) };
}

export function viridis(u: number): RGB {
  return ramp(VIRIDIS, u);
}

/** Diverging colour for `v` in `[−vmax, vmax]` (`RdBu_r` by default, or `bwr`); white at 0. */
export function divergingColor(v: number, vmax: number, map: 'RdBu_r' | 'bwr' = 'RdBu_r'): RGB {
  return ramp(MAPS[map].stops, vmax > 0 ? (v / vmax + 1) / 2 : 0.5);
}

/** `#rrggbb` of a colour. */
export function hex(c: RGB): string {
  return `#${c
    .map((v) =>
      Math.max(0, Math.min(255, Math.round(v)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** `#rrggbb` of a colour map at u (for series coloured by a value). */
export function colorAt(name: ColormapName, u: number): string {
  return hex(colormap(name).at(u));
}

/** Line colours for several series (matplotlib's tab10). */
export const SERIES_COLORS: readonly string[] = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
];

/** Colours of the stimulus channels as OpenRetina's `plot_stimulus_composition` draws them. */
export const CHANNEL_COLORS = {
  grey: [0, 0, 0] as RGB,
  green: [0, 100, 0] as RGB,
  uv: [148, 0, 211] as RGB,
  red: [255, 0, 0] as RGB,
  blue: [0, 0, 255] as RGB,
} as const;

/** Channel colours and names for a stimulus of 1 (grey), 2 (green/UV) or 3 (RGB) channels. */
export function channelStyle(channels: number): { colors: RGB[]; names: string[] } {
  if (channels === 1) return { colors: [CHANNEL_COLORS.grey], names: ['Grey'] };
  if (channels === 2) return { colors: [CHANNEL_COLORS.green, CHANNEL_COLORS.uv], names: ['Green', 'UV'] };
  if (channels === 3) return { colors: [CHANNEL_COLORS.red, [0, 128, 0], CHANNEL_COLORS.blue], names: ['Red', 'Green', 'Blue'] };
  throw new ConfigError(`Stimulus plots support 1, 2 or 3 colour channels, got ${channels}.`);
}

/**
 * A frame pixel of a stimulus in display colours: 1 channel grey; 2 channels green = channel 0 and violet = UV
 * (channel 1: red + blue); 3 channels RGB. Values are in [0, 1].
 */
export function stimulusPixel(values: readonly number[]): RGB {
  const u = (v: number | undefined) => Math.round(255 * Math.max(0, Math.min(1, v ?? 0)));
  if (values.length === 1) return [u(values[0]), u(values[0]), u(values[0])];
  if (values.length === 2) return [Math.round(u(values[1]) * 0.58), u(values[0]), u(values[1])];
  return [u(values[0]), u(values[1]), u(values[2])];
}
