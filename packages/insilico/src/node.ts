// Node-only helpers (file system, PNG rendering, ffmpeg). Everything browser-safe is re-exported from the main entry.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { FileFormatError } from '@openretina/contracts';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { encodeMp4, findFfmpeg, svgToPng, svgToRgba } from '@openretina/plot/node';
import type { RawImage } from './lsta.js';
import { encodeGif, type RgbaImage } from '@openretina/plot';
import {
  labelledFrameScale,
  objectiveCurveSvg,
  stimulusCompositionSvg,
  stimulusFrameLabelSvgs,
  stimulusFrames,
  type CompositionPlotOptions,
  type LabelledFrameOptions,
  type ObjectiveCurveOptions,
} from './render.js';
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

/** The stimulus-composition figure as a PNG: the SVG of {@link stimulusCompositionSvg} rendered, text included. */
export function stimulusCompositionPng(video: Video, options: CompositionPlotOptions = {}): Uint8Array {
  return svgToPng(stimulusCompositionSvg(video, options));
}

/**
 * RGBA animation frames with their label strip (the pictures of {@link stimulusFrameSvgs}): the strip's text is
 * rendered by resvg, the frame's pixels are copied under it (no image round trip per frame).
 */
export function labelledStimulusFrames(video: Video, options: LabelledFrameOptions = {}): RgbaImage[] {
  const scale = labelledFrameScale(video, options);
  const { frames, width, height } = stimulusFrames(video, { scale, startAtFrame: options.startAtFrame ?? 0 });
  const labels = stimulusFrameLabelSvgs(video, width, options);
  return frames.map((rgba, k) => {
    const strip = svgToRgba(labels.svgs[k]!);
    const data = new Uint8Array(width * (labels.height + height) * 4);
    data.set(strip.data.subarray(0, width * labels.height * 4), 0);
    data.set(rgba, width * labels.height * 4);
    return { data, width, height: labels.height + height };
  });
}

/** The stimulus as a looping GIF whose frames carry a label strip (title, frame index and time). */
export function stimulusToGif(video: Video, options: LabelledFrameOptions = {}): Uint8Array {
  return encodeGif(labelledStimulusFrames(video, options), { fps: options.fps ?? 5 });
}

export interface StimulusFiles {
  svg: string;
  png: string;
  /** The animation: `.mp4` when requested and ffmpeg is on PATH, else `.gif`. */
  animation: string;
  /** The objective curve (when objectives were given): `<base>_objective.svg`. */
  objective?: string;
}

export interface StimulusVisualizationOptions extends CompositionPlotOptions, LabelledFrameOptions {
  /** `mp4` (when ffmpeg is on PATH; GIF otherwise), `gif` (default) or `none`. */
  animation?: 'gif' | 'mp4' | 'none';
  /** The optimisation's objective per step, saved as a curve. */
  objectives?: readonly number[];
  objectiveCurve?: ObjectiveCurveOptions;
}

/**
 * Saves what a person looks at for one stimulus: `<base>.svg` and `<base>.png` (the same stimulus-composition figure,
 * with its text), the animation (`<base>.gif`, or `<base>.mp4` with ffmpeg) with labelled frames, and the objective
 * curve `<base>_objective.svg` when `objectives` are given. Every file is written atomically.
 */
export async function saveStimulusVisualizations(
  base: string,
  video: Video,
  options: StimulusVisualizationOptions = {},
): Promise<StimulusFiles> {
  const svg = stimulusCompositionSvg(video, options);
  writeFileAtomicSync(`${base}.svg`, svg);
  writeFileAtomicSync(`${base}.png`, svgToPng(svg));
  let animation = '';
  const wanted = options.animation ?? 'gif';
  if (wanted !== 'none') {
    const frames = labelledStimulusFrames(video, options);
    if (wanted === 'mp4' && findFfmpeg()) {
      animation = `${base}.mp4`;
      await encodeMp4(frames, animation, { fps: options.fps ?? 5 });
    } else {
      animation = `${base}.gif`;
      writeFileAtomicSync(animation, encodeGif(frames, { fps: options.fps ?? 5 }));
    }
  }
  const files: StimulusFiles = { svg: `${base}.svg`, png: `${base}.png`, animation };
  if (options.objectives) {
    files.objective = `${base}_objective.svg`;
    writeFileAtomicSync(
      files.objective,
      objectiveCurveSvg(options.objectives, {
        ...(options.title ? { title: `MEI objective: ${options.title}` } : {}),
        ...options.objectiveCurve,
      }),
    );
  }
  return files;
}
