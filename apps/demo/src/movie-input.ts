// A user's own movie as a stimulus: a .npy array, or a video file decoded by the browser and sampled at 30 Hz.
import type { Movie, StimulusSpec } from '@openretina/contracts';
import { parseNpy, toFloat32 } from '@openretina/formats';
import { DemoLoadError } from './model-loader.js';

/** At most this many frames are taken from a video (10 s at 30 Hz): predictions run on the whole movie. */
export const MAX_VIDEO_FRAMES = 300;

const shapeText = (s: readonly number[]) => `(${s.join(', ')})`;

/**
 * A `.npy` movie for a model with frames `spec`: `[T, H, W, C]` channels-last (as the bundled natural movie), or
 * OpenRetina's `(C, T, H, W)` / `(1, C, T, H, W)`. The frame size and channels must be the model's.
 */
export function movieFromNpy(bytes: Uint8Array, name: string, spec: StimulusSpec): Movie {
  let arr: ReturnType<typeof parseNpy>;
  try {
    arr = parseNpy(bytes, name);
  } catch (e) {
    throw new DemoLoadError('invalid', `${name} is not a readable .npy file: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const s = arr.shape;
  const data = toFloat32(arr.data);
  const { channels: C, height: H, width: W } = spec;
  if (s.length === 4 && s[1] === H && s[2] === W && s[3] === C) return { data, shape: [s[0]!, H, W, C] };
  const first = s.length === 5 && s[0] === 1 ? s.slice(1) : s;
  if (first.length === 4 && first[0] === C && first[2] === H && first[3] === W) {
    const T = first[1]!;
    const out = new Float32Array(data.length);
    const plane = T * H * W;
    for (let c = 0; c < C; c++) for (let p = 0; p < plane; p++) out[p * C + c] = data[c * plane + p]!;
    return { data: out, shape: [T, H, W, C] };
  }
  throw new DemoLoadError(
    'input-shape',
    `${name} has shape ${shapeText(s)}; this model needs a movie [T, ${H}, ${W}, ${C}] (frames, height, width, channels) or OpenRetina's (${C}, T, ${H}, ${W}).`,
  );
}

/**
 * Decodes a video file in the page (an HTMLVideoElement, seeked frame by frame at `fps`), scaled to the model's
 * frame size. Colours become channels: 1 channel = luminance, 2 = green and UV (the video's green and blue),
 * 3 = RGB; values in [−1, 1].
 */
export async function movieFromVideo(file: Blob, name: string, spec: StimulusSpec, fps = 30): Promise<Movie> {
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  video.src = url;
  try {
    await new Promise<void>((resolve, reject) => {
      video.onloadeddata = () => resolve();
      video.onerror = () =>
        reject(
          new DemoLoadError('invalid', `${name}: this browser cannot decode the video (${video.error?.message || 'unsupported format'}).`),
        );
    });
    const duration = Number.isFinite(video.duration) ? video.duration : 0;
    const frames = Math.max(1, Math.min(MAX_VIDEO_FRAMES, Math.floor(duration * fps)));
    const { channels: C, height: H, width: W } = spec;
    const canvas = document.createElement('canvas');
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const data = new Float32Array(frames * H * W * C);
    for (let f = 0; f < frames; f++) {
      await seek(video, Math.min(duration, (f + 0.5) / fps));
      ctx.drawImage(video, 0, 0, W, H);
      const px = ctx.getImageData(0, 0, W, H).data;
      for (let p = 0; p < H * W; p++) {
        const r = px[p * 4]! / 127.5 - 1;
        const g = px[p * 4 + 1]! / 127.5 - 1;
        const b = px[p * 4 + 2]! / 127.5 - 1;
        const o = (f * H * W + p) * C;
        if (C === 1) data[o] = 0.299 * r + 0.587 * g + 0.114 * b;
        else if (C === 2) {
          data[o] = g;
          data[o + 1] = b;
        } else {
          const rgb = [r, g, b];
          for (let c = 0; c < C; c++) data[o + c] = rgb[c % 3]!;
        }
      }
    }
    return { data, shape: [frames, H, W, C] };
  } finally {
    URL.revokeObjectURL(url);
  }
}

function seek(video: HTMLVideoElement, t: number): Promise<void> {
  return new Promise((resolve) => {
    video.onseeked = () => resolve();
    video.currentTime = t;
  });
}
