// Node-only helpers (file system). Everything browser-safe is re-exported from the main entry.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { FileFormatError } from '@openretina/contracts';
import { writeFileAtomicSync } from '@openretina/formats/node';
import type { RawImage } from './lsta.js';
import { stimulusCompositionPng, stimulusCompositionSvg, stimulusToGif, type CompositionPlotOptions, type GifOptions } from './render.js';
import type { Video } from './video.js';

export * from './index.js';

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
  writeFileAtomicSync(files.svg, stimulusCompositionSvg(video, options));
  writeFileAtomicSync(files.png, stimulusCompositionPng(video, options));
  writeFileAtomicSync(files.gif, stimulusToGif(video, options));
  return files;
}
