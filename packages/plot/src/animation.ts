// Animated GIFs from RGBA frames (gifenc: pure JavaScript, works in Node and the browser).
import * as gifencNs from 'gifenc';
import { ShapeError } from '@openretina/contracts';
import type { RgbaImage } from './image.js';

type GifLib = { GIFEncoder: typeof gifencNs.GIFEncoder; quantize: typeof gifencNs.quantize; applyPalette: typeof gifencNs.applyPalette };

// gifenc's CJS build puts its functions on `default` when imported from ESM; its ESM build exports them by name.
function gifLib(): GifLib {
  const ns = gifencNs as unknown as GifLib & { default?: GifLib };
  return typeof ns.GIFEncoder === 'function' ? ns : ns.default!;
}

/** Checks that every frame has the first frame's size and `width × height × 4` bytes. */
export function checkFrames(frames: readonly RgbaImage[]): { width: number; height: number } {
  const first = frames[0];
  if (!first) throw new ShapeError('An animation needs at least one frame, got none.');
  for (const [i, f] of frames.entries()) {
    if (f.width !== first.width || f.height !== first.height || f.data.length !== f.width * f.height * 4) {
      throw new ShapeError(
        `Frame ${i} is ${f.width}×${f.height} with ${f.data.length} bytes; expected ${first.width}×${first.height} RGBA (${first.width * first.height * 4} bytes) like frame 0.`,
      );
    }
  }
  return { width: first.width, height: first.height };
}

/** A looping animated GIF (one 256-colour palette per frame). */
export function encodeGif(frames: readonly RgbaImage[], options: { fps?: number } = {}): Uint8Array {
  const { width, height } = checkFrames(frames);
  const { GIFEncoder, quantize, applyPalette } = gifLib();
  const delay = Math.round(1000 / (options.fps ?? 5));
  const gif = GIFEncoder();
  for (const f of frames) {
    const rgba = f.data instanceof Uint8Array ? f.data : new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    const palette = quantize(rgba, 256);
    gif.writeFrame(applyPalette(rgba, palette), width, height, { palette, delay, repeat: 0 });
  }
  gif.finish();
  return gif.bytes();
}
