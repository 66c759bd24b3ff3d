// Node-only: SVG → PNG/RGBA with resvg (text drawn with the bundled DejaVu Sans), MP4 through ffmpeg when it is on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError, FileFormatError } from '@openretina/contracts';
import { checkFrames } from './animation.js';
import type { RgbaImage } from './image.js';

export * from './index.js';

/**
 * The bundled font file (DejaVu Sans, Bitstream Vera licence: fonts/LICENSE-DejaVu.txt). PNGs are drawn with it
 * only, never with system fonts, so text renders the same on every machine.
 */
export const FONT_FILE: string = join(dirname(fileURLToPath(import.meta.url)), '..', 'fonts', 'DejaVuSans.ttf');

interface ResvgModule {
  Resvg: new (
    svg: string,
    options: Record<string, unknown>,
  ) => { render(): { asPng(): Uint8Array; pixels: Uint8Array; width: number; height: number } };
}

let resvg: ResvgModule | undefined;
function loadResvg(): ResvgModule {
  // A native module (prebuilt per platform): loaded on first use so that importing this entry stays cheap.
  resvg ??= createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
  return resvg;
}

export interface RasterOptions {
  /** Zoom factor (default 1: one PNG pixel per SVG unit). */
  scale?: number;
  /** Background colour (default: the SVG's own, transparent where it draws nothing). */
  background?: string;
}

function render(svg: string, options: RasterOptions) {
  if (!existsSync(FONT_FILE)) throw new FileFormatError(`The bundled font ${FONT_FILE} is missing: reinstall @openretina/plot.`);
  const { Resvg } = loadResvg();
  const r = new Resvg(svg, {
    font: { fontFiles: [FONT_FILE], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: options.scale ?? 1 },
    ...(options.background ? { background: options.background } : {}),
    logLevel: 'off',
  });
  return r.render();
}

/** A PNG of an SVG, text included. */
export function svgToPng(svg: string, options: RasterOptions = {}): Uint8Array {
  return new Uint8Array(render(svg, options).asPng());
}

/** The RGBA pixels of an SVG (e.g. to build animation frames with labels). */
export function svgToRgba(svg: string, options: RasterOptions = {}): RgbaImage {
  const img = render(svg, options);
  return { data: new Uint8Array(img.pixels), width: img.width, height: img.height };
}

/** The `ffmpeg` on PATH (or `OPENRETINA_FFMPEG`), or undefined when there is none. */
export function findFfmpeg(): string | undefined {
  const candidate = process.env.OPENRETINA_FFMPEG ?? 'ffmpeg';
  const probe = spawnSync(candidate, ['-version'], { stdio: 'ignore' });
  return probe.status === 0 ? candidate : undefined;
}

/**
 * Encodes RGBA frames as an H.264 MP4 (yuv420p, even frame size) with ffmpeg, writing `path`. Throws a
 * `BackendError` when ffmpeg is missing or fails (its last output lines in the message).
 */
export async function encodeMp4(
  frames: readonly RgbaImage[],
  path: string,
  options: { fps?: number; ffmpeg?: string } = {},
): Promise<void> {
  const { width, height } = checkFrames(frames);
  const ffmpeg = options.ffmpeg ?? findFfmpeg();
  if (!ffmpeg) throw new BackendError('ffmpeg was not found on PATH: install it (e.g. apt-get install ffmpeg) for MP4 output.');
  // Written aside and renamed, so that a failed encoding never leaves a partial file at `path`.
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgba',
    '-s',
    `${width}x${height}`,
    '-r',
    String(options.fps ?? 5),
    '-i',
    '-',
    // H.264 in yuv420p needs even sizes: pad by one pixel where needed.
    '-vf',
    'pad=ceil(iw/2)*2:ceil(ih/2)*2',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    '-f',
    'mp4',
    tmp,
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('error', (e) => reject(new BackendError(`ffmpeg could not be started: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      if (code === 0) {
        renameSync(tmp, path);
        resolve();
      } else {
        rmSync(tmp, { force: true });
        reject(new BackendError(`ffmpeg failed (exit ${code}) writing ${path}: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
      }
    });
    child.stdin.on('error', () => {}); // an early exit is reported by 'close'
    for (const f of frames) child.stdin.write(f.data);
    child.stdin.end();
  });
}
