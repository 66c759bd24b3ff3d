// Node-only helpers (file system). Everything browser-safe is re-exported from the main entry.
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decode } from 'fast-png';
import { FileFormatError } from '@openretina/contracts';
import type { RawImage } from './lsta.js';
import { stimulusCompositionPng, stimulusCompositionSvg, stimulusToGif, type CompositionPlotOptions, type GifOptions } from './render.js';
import type { Video } from './video.js';

export * from './index.js';

/** Writes a file atomically (temporary file + rename), creating its folder. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/**
 * Reads every `.png` in a folder (sorted by name) as raw images for `preprocessImages`
 * (OpenRetina's `load_and_preprocess_images` reads the same files).
 */
export function loadPngImages(dir: string): RawImage[] {
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.png'))
    .sort();
  if (files.length === 0) throw new FileFormatError(`No PNG images found in ${dir}.`);
  return files.map((f) => {
    const png = decode(readFileSync(join(dir, f)));
    return { data: png.data, width: png.width, height: png.height, channels: png.channels };
  });
}

export interface StimulusFiles {
  svg: string;
  png: string;
  gif: string;
}

/**
 * Saves what a person looks at for one stimulus: `<base>.svg` and `<base>.png` (stimulus composition) and
 * `<base>.gif` (the stimulus as an animation).
 */
export function saveStimulusVisualizations(base: string, video: Video, options: CompositionPlotOptions & GifOptions = {}): StimulusFiles {
  const files = { svg: `${base}.svg`, png: `${base}.png`, gif: `${base}.gif` };
  writeFileAtomic(files.svg, stimulusCompositionSvg(video, options));
  writeFileAtomic(files.png, stimulusCompositionPng(video, options));
  writeFileAtomic(files.gif, stimulusToGif(video, options));
  return files;
}
