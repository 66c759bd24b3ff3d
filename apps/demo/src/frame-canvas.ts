// Movie frames on a canvas (the one thing the demo animates itself); colours from @openretina/plot's channel map.
import type { Movie } from '@openretina/contracts';
import { stimulusPixel } from '@openretina/plot';

/**
 * Draws frame f of a movie `[T, H, W, C]`: 1 channel grey, 2 channels green and UV (violet), 3 channels RGB.
 * `scale` maps values to [0, 1] as (v·scale + 1)/2 (scale 1 for stimuli in [−1, 1]).
 */
export function drawFrame(canvas: HTMLCanvasElement, movie: Movie, f: number, scale = 1): void {
  const [, h, w, c] = movie.shape;
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  const base = f * h * w * c;
  const values: number[] = new Array(Math.min(3, c)).fill(0);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < values.length; k++) values[k] = (movie.data[base + p * c + k]! * scale + 1) / 2;
    const rgb = stimulusPixel(values);
    img.data.set([rgb[0], rgb[1], rgb[2], 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
}

/** Largest |value| (to scale MEIs for display). */
export function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]!));
  return m;
}
