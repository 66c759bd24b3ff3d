import { ConfigError, DataError } from '@openretina/contracts';
import { crop4, type SridharCrop } from './crop.js';
import type { NoiseFrames } from './noise-dataset.js';

/**
 * The pixel of largest temporal variance of a spike-triggered average `(T, h, w)` (OpenRetina's
 * `get_location_from_sta`): optionally flipped along axis 1 (`np.flip(sta, axis=1)`) and cropped
 * `(top, bottom, left, right)` first; variance with ddof 0; ties (and NaN, as `np.argmax`) give the first pixel in
 * row-major order. Returns `[row, col]` in the cropped frame.
 */
export function locationFromSta(sta: NoiseFrames, options: { flipSta?: boolean; crop?: SridharCrop } = {}): [number, number] {
  if (sta.shape.length !== 3) throw new DataError(`Expected a (T, h, w) STA, got shape [${sta.shape.join(', ')}].`);
  const [t, h, w] = sta.shape as [number, number, number];
  const [top, bottom, left, right] = crop4(options.crop, 0);
  const doCrop = top + bottom + left + right > 0;
  const r0 = doCrop ? top : 0;
  const r1 = doCrop ? h - bottom : h;
  const c0 = doCrop ? left : 0;
  const c1 = doCrop ? w - right : w;
  if (r1 <= r0 || c1 <= c0) throw new ConfigError(`Crop [${top}, ${bottom}, ${left}, ${right}] leaves nothing of a ${h}×${w} STA.`);
  const ww = c1 - c0;
  let best = -Infinity;
  let bestIdx = 0;
  let k = 0;
  for (let i = r0; i < r1; i++) {
    const src = options.flipSta ? h - 1 - i : i;
    for (let j = c0; j < c1; j++, k++) {
      let mean = 0;
      for (let f = 0; f < t; f++) mean += Number(sta.data[(f * h + src) * w + j]);
      mean /= t;
      let v = 0;
      for (let f = 0; f < t; f++) {
        const d = Number(sta.data[(f * h + src) * w + j]) - mean;
        v += d * d;
      }
      v /= t;
      if (Number.isNaN(v)) {
        if (!Number.isNaN(best)) {
          best = NaN;
          bestIdx = k;
        }
      } else if (!Number.isNaN(best) && v > best) {
        best = v;
        bestIdx = k;
      }
    }
  }
  return [Math.floor(bestIdx / ww), bestIdx % ww];
}
