import type { Movie } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { SRIDHAR_2025 } from './constants.js';
import type { SridharFixation } from './fixations.js';

/** Frames of the natural movie: `count` frames of `(fullW, fullH)` each (x-major, as stored), values /255 in float16 precision. */
export interface SridharFrames {
  data: Float32Array;
  count: number;
  fullW: number;
  fullH: number;
}

/** Options of {@link renderSridharMovie}. */
export interface SridharRenderOptions {
  imgW?: number;
  imgH?: number;
  padding?: number;
  /** (top, bottom, left, right), applied after the fixation crop (default [35, 35, 55, 55]). */
  crop?: readonly [number, number, number, number];
  subsample?: number;
}

/**
 * Renders natural-movie frames from fixations (OpenRetina's `MarmosetMovieDataset._render_frame`): crop `imgW × imgH`
 * around the fixation centre (+ padding) on the stored `(W, H)` frame, mirror the vertical image axis of the stored
 * array when the flag is 0 (`torch.fliplr` on the `(W, H)` crop), transpose to `(H, W)`, then crop
 * `(top, bottom, left, right)` and subsample. Returns a one-channel `Movie` `[F, h, w, 1]`.
 */
export function renderSridharMovie(
  frames: SridharFrames,
  fixations: readonly SridharFixation[],
  options: SridharRenderOptions = {},
): Movie {
  const d = SRIDHAR_2025.render;
  const imgW = options.imgW ?? d.imgW;
  const imgH = options.imgH ?? d.imgH;
  const pad = options.padding ?? d.padding;
  const [top, bottom, left, right] = options.crop ?? d.bigCrops;
  const sub = options.subsample ?? d.subsample;
  const rowsIdx: number[] = [];
  for (let y = top; y < imgH - bottom; y += sub) rowsIdx.push(y);
  const colsIdx: number[] = [];
  for (let x = left; x < imgW - right; x += sub) colsIdx.push(x);
  const h = rowsIdx.length;
  const w = colsIdx.length;
  const out = new Float32Array(fixations.length * h * w);
  const hw = Math.trunc(imgW / 2);
  const hh = Math.trunc(imgH / 2);
  fixations.forEach((fx, f) => {
    if (fx.imgIndex < 0 || fx.imgIndex >= frames.count)
      throw new DataError(`Fixation ${f} refers to frame ${fx.imgIndex}; there are ${frames.count}.`);
    const x0 = fx.centerX + pad - hw;
    const y0 = fx.centerY + pad - hh;
    if (pad !== 0 && (x0 < 0 || y0 < 0 || x0 + 2 * hw > frames.fullW || y0 + 2 * hh > frames.fullH)) {
      throw new DataError(`Fixation ${f} (${fx.centerX}, ${fx.centerY}) crops outside the ${frames.fullW}×${frames.fullH} frame.`);
    }
    const base = fx.imgIndex * frames.fullW * frames.fullH;
    rowsIdx.forEach((yy, i) => {
      const ySrc = fx.flip === 0 ? imgH - 1 - yy : yy;
      colsIdx.forEach((xx, j) => {
        out[(f * h + i) * w + j] = frames.data[base + (x0 + xx) * frames.fullH + (y0 + ySrc)]!;
      });
    });
  });
  if (imgW % 2 !== 0 || imgH % 2 !== 0) throw new ConfigError(`imgW and imgH must be even, got ${imgW}×${imgH}.`);
  return { data: out, shape: [fixations.length, h, w, 1] };
}
