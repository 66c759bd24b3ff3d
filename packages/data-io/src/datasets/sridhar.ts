import type { Movie } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';

/** Sridhar et al. 2025 constants (OpenRetina `sridhar_2025/constants.py` and the `sridhar_nm_2025.yaml` configs). */
export const SRIDHAR_2025 = {
  testDataFrames: 5100,
  naturalMovieDataset: 'gollisch_lab/sridhar_2025/marmoset/natural_movie',
  whiteNoiseDataset: 'gollisch_lab/sridhar_2025/marmoset/whitenoise',
  naturalMovieResponseFiles: {
    '01': 'responses/cell_responses_01_fixation_movie.pkl',
    '02': 'responses/cell_responses_02_fixation_movie.pkl',
    '03': 'responses/cell_responses_03_fixation_movie.pkl',
    '04': 'responses/cell_responses_04_fixation_movie.pkl',
  } as Readonly<Record<string, string>>,
  naturalMovieFixationFiles: {
    '01': 'fixations/complete_fixations_seed_2022and2023_s4_fixed.txt',
    '02': 'fixations/complete_fixations_seed2022_s4.txt',
    '03': 'fixations/complete_fixations_seed_2022and2023_s4_fixed.txt',
    '04': 'fixations/complete_fixations_seed_2022and2023_s4_fixed.txt',
  } as Readonly<Record<string, string>>,
  /** Frame rendering of the 4× downsampled natural movie (`stimuli_padded_4`). */
  render: { fullImgW: 350, fullImgH: 300, imgW: 200, imgH: 150, padding: 50, bigCrops: [35, 35, 55, 55] as const, subsample: 1 },
} as const;

/** One fixation line: which frame, the crop centre and the flip flag. */
export interface SridharFixation {
  imgIndex: number;
  centerX: number;
  centerY: number;
  flip: number;
}

/**
 * Parses fixation lines `img_index ? ? center_x center_y … flip` (OpenRetina's `process_fixations`): the flag is the
 * first character of the last space-separated token; `flipImgs` inverts it; `selectFlip` keeps only one flag value.
 */
export function parseSridharFixations(
  text: string | readonly string[],
  options: { flipImgs?: boolean; selectFlip?: number } = {},
): SridharFixation[] {
  const lines =
    typeof text === 'string'
      ? text
          .split('\n')
          .filter((l) => l.trim().length > 0)
          .map((l) => `${l}\n`)
      : text;
  const out = lines.map((line, i) => {
    const tok = line.split(' ');
    const last = tok[tok.length - 1]!;
    const vals = [tok[0], tok[3], tok[4]].map((t) => Math.trunc(Number.parseFloat(t ?? '')));
    if (tok.length < 6 || vals.some((v) => Number.isNaN(v)))
      throw new DataError(`Fixation line ${i + 1} is malformed: ${JSON.stringify(line)}.`);
    const flag = Number.parseInt(last[0]!, 10);
    return { imgIndex: vals[0]!, centerX: vals[1]!, centerY: vals[2]!, flip: options.flipImgs ? Number(last[0] === '0') : flag };
  });
  return options.selectFlip === undefined ? out : out.filter((f) => f.flip === options.selectFlip);
}

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

/** Options of {@link sridharFrameOverhead}. */
export interface FrameOverheadOptions {
  /** Temporal kernel size of the first core layer. */
  numOfFrames: number;
  temporalDilation?: number;
  /** Temporal kernel sizes of the hidden layers (one per layer after the first, or one value for all). */
  hiddenFrames?: number | readonly number[];
  hiddenTemporalDilation?: number | readonly number[];
  /** Number of core layers (default 1 + the number of hidden kernel sizes given). */
  numOfLayers?: number;
}

/** Frames a sample needs before its first target: `(numOfFrames − 1)·dilation + Σ_hidden (f − 1)·d`. */
export function sridharFrameOverhead(o: FrameOverheadOptions): number {
  const layers = o.numOfLayers ?? 1 + (Array.isArray(o.hiddenFrames) ? o.hiddenFrames.length : o.hiddenFrames === undefined ? 0 : 1);
  const hidden = layers - 1;
  const asList = (v: number | readonly number[] | undefined, dflt: number) =>
    Array.isArray(v) ? [...(v as number[])] : new Array<number>(hidden).fill((v as number | undefined) ?? dflt);
  const frames = asList(o.hiddenFrames, o.numOfFrames);
  const dil = asList(o.hiddenTemporalDilation, 1);
  if (frames.length !== hidden || dil.length !== hidden) {
    throw new ConfigError(`Expected ${hidden} hidden kernel sizes and dilations, got ${frames.length} and ${dil.length}.`);
  }
  let reach = 0;
  for (let i = 0; i < hidden; i++) reach += (frames[i]! - 1) * dil[i]!;
  return (o.numOfFrames - 1) * (o.temporalDilation ?? 1) + reach;
}

/** Options of {@link SridharMovieDataset}. */
export interface SridharMovieDatasetOptions extends SridharRenderOptions {
  split: 'train' | 'test';
  /** Train trials of this split (required for train/validation splits). */
  trialIndices?: readonly number[];
  /** Target frames per sample (default 100). */
  timeChunkSize?: number;
  /** Extra input frames before the targets (see {@link sridharFrameOverhead}). */
  frameOverhead: number;
  /** Fixation lines of the test movie, which come first in the fixation file (default 5100). */
  testFrames?: number;
}

/**
 * Time chunks of the Sridhar natural movie (OpenRetina's `MarmosetMovieDataset`): a sample has
 * `timeChunkSize + frameOverhead` input frames rendered from the fixation lines and `timeChunkSize` target frames
 * (already aligned, so no lag is cut in the loss). Train trial `j` uses fixation lines `testFrames + framesPerTrial·j …`;
 * the test split uses the first lines. Each trial gives `floor((framesPerTrial − overhead) / timeChunkSize)` samples.
 * Responses: the train matrix `[trials·framesPerTrial, N]` (trial after trial) and the test average `[T, N]`.
 */
export class SridharMovieDataset {
  readonly chunksPerTrial: number;
  readonly frameShape: readonly [number, number, number];
  private readonly trials: readonly number[];
  private readonly chunk: number;

  constructor(
    private readonly frames: SridharFrames,
    private readonly fixations: readonly SridharFixation[],
    private readonly responses: {
      train: { data: Float32Array; shape: readonly [number, number] };
      test: { data: Float32Array; shape: readonly [number, number] };
      framesPerTrial: number;
    },
    private readonly options: SridharMovieDatasetOptions,
  ) {
    this.chunk = options.timeChunkSize ?? 100;
    const imgs = options.split === 'test' ? responses.test.shape[0] : responses.framesPerTrial;
    this.chunksPerTrial = Math.floor((imgs - options.frameOverhead) / this.chunk);
    if (options.split === 'train' && options.trialIndices === undefined)
      throw new ConfigError('trialIndices are required for the train and validation splits.');
    this.trials = options.split === 'test' ? [0] : options.trialIndices!;
    const probe = renderSridharMovie(frames, fixations.slice(0, 1), options);
    this.frameShape = [probe.shape[1], probe.shape[2], 1];
  }

  get length(): number {
    return this.trials.length * this.chunksPerTrial;
  }

  get nNeurons(): number {
    return this.responses.train.shape[1];
  }

  /** Sample `item`: inputs `[chunk + overhead, h, w, 1]`, targets `[chunk, N]`. */
  get(item: number): { inputs: Movie; targets: { data: Float32Array; shape: [number, number] } } {
    if (!Number.isInteger(item) || item < 0 || item >= this.length) throw new DataError(`Sample ${item} is outside [0, ${this.length}).`);
    const trial = this.trials[Math.floor(item / this.chunksPerTrial)]!;
    const start = (item % this.chunksPerTrial) * this.chunk;
    const span = this.chunk + this.options.frameOverhead;
    const test = this.options.split === 'test';
    const line0 = test ? start : start + (this.options.testFrames ?? SRIDHAR_2025.testDataFrames) + this.responses.framesPerTrial * trial;
    const fix = this.fixations.slice(line0, line0 + span);
    if (fix.length < span)
      throw new DataError(`Sample ${item} needs fixation lines [${line0}, ${line0 + span}); the file has ${this.fixations.length}.`);
    const inputs = renderSridharMovie(this.frames, fix, this.options);
    const n = this.nNeurons;
    const src = test ? this.responses.test.data : this.responses.train.data;
    const rowBase = test ? 0 : trial * this.responses.framesPerTrial;
    const a = rowBase + start + this.options.frameOverhead;
    return { inputs, targets: { data: src.slice(a * n, (a + this.chunk) * n), shape: [this.chunk, n] } };
  }
}
