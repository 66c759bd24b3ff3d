// Spatial and temporal filters of a neuron from its spike-triggered average (OpenRetina's utils/sta_processing).
import { ConfigError, DataError } from '@openretina/contracts';
import { fit2dGaussian, gaussian2dGrid, type Gaussian2D, type Gaussian2DFit } from './gaussian-fit.js';

/** A spike-triggered average `[T, H, W]` (row-major). */
export interface Sta {
  data: ArrayLike<number>;
  shape: readonly [number, number, number];
}

/** What {@link extractFiltersFromSta} derives from an STA. */
export interface StaFilterSet {
  /** `[H, W]` row-major: the fitted Gaussian (positive), masked at `sigmaContour` sigmas, unit L2 norm. */
  spatialFilter: Float32Array;
  /** `[T']`: the STA at the RF centre pixel, the last `temporalCropFrames` frames, unit L2 norm. */
  temporalFilter: Float32Array;
  /** RF centre in pixels (the fitted Gaussian's centre). */
  center: { x: number; y: number };
  /** The fitted Gaussian (amplitude made positive). */
  gaussian: Gaussian2DFit;
}

/** Options of {@link extractFiltersFromSta}. */
export interface StaFilterOptions {
  /** Keep the last this many frames of the temporal filter (default all). */
  temporalCropFrames?: number | null;
  /** Radius of the spatial mask in sigmas (default 3). */
  sigmaContour?: number;
}

/** 1 inside the ellipse at `nSigma` standard deviations of the Gaussian, 0 outside (`height × width`). */
export function gaussianContourMask(height: number, width: number, g: Omit<Gaussian2D, 'amplitude'>, nSigma = 3): Float32Array {
  const cos = Math.cos(g.theta);
  const sin = Math.sin(g.theta);
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - g.centerX;
      const dy = y - g.centerY;
      const u = (cos * dx + sin * dy) / g.sigmaX;
      const v = (-sin * dx + cos * dy) / g.sigmaY;
      out[y * width + x] = Math.sqrt(u * u + v * v) <= nSigma ? 1 : 0;
    }
  }
  return out;
}

const l2 = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Number(a[i]) ** 2;
  return Math.sqrt(s);
};

/**
 * OpenRetina's `extract_filters_from_sta`: the frame of largest spatial variance is fitted with a 2D Gaussian
 * ({@link fit2dGaussian}); the spatial filter is that Gaussian with positive amplitude (OFF cells flipped), masked at
 * `sigmaContour` sigmas and scaled to unit norm; the temporal filter is the STA's time course at the rounded centre
 * pixel, cropped to its last `temporalCropFrames` frames and scaled to unit norm. An STA with NaN or infinite values
 * gives zero filters (centre at the middle) so that neuron only contributes its baseline.
 */
export function extractFiltersFromSta(sta: Sta, options: StaFilterOptions = {}): StaFilterSet {
  const [t, h, w] = sta.shape;
  if (sta.data.length !== t * h * w)
    throw new DataError(`An STA of shape [${t}, ${h}, ${w}] needs ${t * h * w} values, got ${sta.data.length}.`);
  const crop = options.temporalCropFrames ?? null;
  if (crop !== null && !(Number.isInteger(crop) && crop >= 1))
    throw new ConfigError(`temporal_crop_frames must be a positive integer or null, got ${crop}.`);
  const sigmaContour = options.sigmaContour ?? 3;
  for (let i = 0; i < sta.data.length; i++) {
    if (!Number.isFinite(Number(sta.data[i]))) {
      return {
        spatialFilter: new Float32Array(h * w),
        temporalFilter: new Float32Array(crop ?? t),
        center: { x: w / 2, y: h / 2 },
        gaussian: { centerX: w / 2, centerY: h / 2, sigmaX: 1, sigmaY: 1, theta: 0, amplitude: 0, success: false },
      };
    }
  }
  // the frame of largest variance over pixels (ddof 0; the first on ties)
  let peak = 0;
  let peakVar = -Infinity;
  const hw = h * w;
  for (let f = 0; f < t; f++) {
    let mean = 0;
    for (let i = 0; i < hw; i++) mean += Number(sta.data[f * hw + i]);
    mean /= hw;
    let v = 0;
    for (let i = 0; i < hw; i++) v += (Number(sta.data[f * hw + i]) - mean) ** 2;
    v /= hw;
    if (v > peakVar) {
      peakVar = v;
      peak = f;
    }
  }
  const frame = Float64Array.from({ length: hw }, (_, i) => Number(sta.data[peak * hw + i]));
  const fit = fit2dGaussian(frame, h, w);
  const gaussian = { ...fit, amplitude: Math.abs(fit.amplitude) };
  const values = gaussian2dGrid(h, w, gaussian);
  const mask = gaussianContourMask(h, w, gaussian, sigmaContour);
  const spatial = values.map((v, i) => v * mask[i]!);
  const sNorm = l2(spatial);
  const spatialFilter = Float32Array.from(spatial, (v) => (sNorm > 0 ? v / sNorm : v));
  const cy = Math.min(h - 1, Math.max(0, roundHalfEven(gaussian.centerY)));
  const cx = Math.min(w - 1, Math.max(0, roundHalfEven(gaussian.centerX)));
  let temporal = Float32Array.from({ length: t }, (_, f) => Number(sta.data[f * hw + cy * w + cx]));
  if (crop !== null && crop < t) temporal = temporal.slice(t - crop);
  const tNorm = l2(temporal);
  const temporalFilter = tNorm > 0 ? temporal.map((v) => v / tNorm) : temporal;
  return { spatialFilter, temporalFilter, center: { x: gaussian.centerX, y: gaussian.centerY }, gaussian };
}

/** numpy's round (half to even). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * An STA flipped along its width (`flipSta`, when the stimulus and the STA are mirrored as in the natural-movie data)
 * and cropped symmetrically to `targetShape` `[H, W]` (top = ⌊(h − H)/2⌋, left = ⌊(w − W)/2⌋), as OpenRetina's
 * `load_sta_and_extract_filters` does before fitting.
 */
export function alignSta(sta: Sta, options: { flipSta?: boolean; targetShape?: readonly [number, number] | null } = {}): Sta {
  const [t, h, w] = sta.shape;
  const [th, tw] = options.targetShape ?? [h, w];
  const top = Math.floor((h - th) / 2);
  const left = Math.floor((w - tw) / 2);
  if (top < 0 || left < 0) {
    throw new DataError(`The STA's spatial size [${h}, ${w}] is smaller than the stimulus [${th}, ${tw}]; it cannot be cropped to it.`);
  }
  const out = new Float32Array(t * th * tw);
  for (let f = 0; f < t; f++) {
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const sx = options.flipSta ? w - 1 - (left + x) : left + x;
        out[(f * th + y) * tw + x] = Number(sta.data[(f * h + top + y) * w + sx]);
      }
    }
  }
  return { data: out, shape: [t, th, tw] };
}
