// Raster images inside figures: a map is colour-mapped, scaled up by whole pixels (nearest neighbour, so no renderer
// smooths it) and embedded as a PNG data URI in an <image>: a few kB per map instead of one <rect> per pixel.
import { ShapeError } from '@openretina/contracts';
import type { Colormap, RGB } from './colormaps.js';
import { encodeScaledPng } from './png.js';

/** A row-major `[height, width]` map of numbers. */
export interface MapData {
  values: ArrayLike<number>;
  height: number;
  width: number;
}

/** Colour limits of a map: symmetric around 0 for diverging maps (`±max|v|`), min…max otherwise. */
export function mapLimits(values: ArrayLike<number>, cmap: Colormap): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return cmap.kind === 'diverging' ? [-1, 1] : [0, 1];
  if (cmap.kind === 'diverging') {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    return [-m, m];
  }
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}

/** RGBA pixels of a colour-mapped map. */
export function colorize(map: MapData, cmap: Colormap, limits: readonly [number, number]): Uint8Array {
  checkMap(map);
  const [lo, hi] = limits;
  const out = new Uint8Array(map.height * map.width * 4);
  for (let i = 0; i < map.height * map.width; i++) {
    const v = map.values[i]!;
    const c: RGB = Number.isFinite(v) ? cmap.at(hi > lo ? (v - lo) / (hi - lo) : 0.5) : [200, 200, 200];
    out[i * 4] = c[0];
    out[i * 4 + 1] = c[1];
    out[i * 4 + 2] = c[2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

function checkMap(map: MapData): void {
  if (!(map.height > 0 && map.width > 0) || map.values.length < map.height * map.width) {
    throw new ShapeError(`A map of ${map.height}×${map.width} needs ${map.height * map.width} values, got ${map.values.length}.`);
  }
}

/** An RGBA image of `width × height` pixels. */
export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** Scales an RGBA image up by an integer factor (nearest neighbour). */
export function upscale(img: RgbaImage, factor: number): RgbaImage {
  const f = Math.max(1, Math.round(factor));
  if (f === 1) return img;
  const W = img.width * f;
  const H = img.height * f;
  const data = new Uint8Array(W * H * 4);
  // each pixel as one 32-bit word; each source row widened once, then copied to the f - 1 rows below it
  const src = new Uint32Array(img.width * img.height);
  new Uint8Array(src.buffer).set(img.data.subarray(0, src.length * 4));
  const dst = new Uint32Array(data.buffer);
  for (let sy = 0; sy < img.height; sy++) {
    const row = sy * f * W;
    for (let sx = 0; sx < img.width; sx++) dst.fill(src[sy * img.width + sx]!, row + sx * f, row + (sx + 1) * f);
    for (let k = 1; k < f; k++) dst.copyWithin(row + k * W, row, row + W);
  }
  return { data, width: W, height: H };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 without Node's Buffer or the browser's btoa (works in both). */
export function base64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    s += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`;
  }
  return s;
}

/** PNG bytes of an RGBA image. */
export function encodeRgbaPng(img: RgbaImage): Uint8Array {
  return encodeScaledPng(img, 1);
}

/**
 * `data:image/png;base64,…` of an image scaled up so that it has at least `displayWidth` pixels across (crisp
 * wherever it is drawn at that size or smaller).
 */
export function pngDataUri(img: RgbaImage, displayWidth = img.width): string {
  return `data:image/png;base64,${base64(encodeScaledPng(img, Math.min(32, Math.ceil(displayWidth / img.width))))}`;
}
