import type { MovieSplit, ResponseSplit, Responses, TrialResponses } from '@openretina/contracts';
import { ConfigError, DataError, ShapeError, formatShape } from '@openretina/contracts';
import { createMovieSplit, createResponseSplit } from '../containers.js';
import { FrameSequence } from '../frames.js';
import { type DataloaderDict, MovieDataLoader, computeTestBatchSize } from '../loaders.js';
import { movieFromCTHW } from '../layout.js';
import { type NdArray, type NdTree, isNdArray, toNumberArray } from '../ndarray.js';
import { toFloat32 } from '@openretina/formats';
import { deriveSeed } from '../random.js';

/** Höfling et al. 2024 constants (OpenRetina `hoefling_2024/constants.py`). */
export const HOEFLING_2024 = {
  numClips: 108,
  clipLength: 150,
  frameRate: 30,
  /** Seconds between the first and last frame of a clip trigger (`4.9666667`, i.e. 149 / 30). */
  movieTriggerDuration: 4.9666667,
  /** Validation clips of `configs/dataloader/hoefling_2024.yaml`. */
  validationClipIndices: [0, 4, 10, 11, 18, 30, 45, 62, 67, 77, 79, 80, 81, 83, 95] as readonly number[],
  lowResStimuli:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/stimuli/rgc_natstim_18x16_joint_normalized_2024-01-11.zip',
  highResStimuli:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/stimuli/rgc_natstim_72x64_joint_normalized_2024-10-11.zip',
  responses:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/responses/rgc_natstim_2024-08-14.zip',
  responsesSubset:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/responses/rgc_natsim_subset_only_naturalspikes_2024-08-14.h5',
} as const;

/** Quality checks (`configs/quality_checks/hoefling_2024.yaml`). */
export interface HoeflingQualityChecks {
  filterCellTypes: boolean;
  cellTypesList: readonly number[];
  chirpQi: number;
  dQi: number;
  qiLogic: 'and' | 'or';
  filterCounts: boolean;
  countThreshold: number;
  classifierConfidence: number;
  /** Receives one line per filtering step (neurons and fields kept), as OpenRetina's `verbose` prints them. */
  report?: (message: string) => void;
}

export const HOEFLING_2024_QUALITY_CHECKS: HoeflingQualityChecks = {
  filterCellTypes: true,
  cellTypesList: Array.from({ length: 32 }, (_, i) => i + 1),
  chirpQi: 0.35,
  dQi: 0.6,
  qiLogic: 'or',
  filterCounts: false,
  countThreshold: 10,
  classifierConfidence: 0.25,
};

type Field = Record<string, unknown>;

function arr(field: Field, key: string, where: string): NdArray {
  const v = field[key];
  if (!isNdArray(v)) throw new DataError(`${where}: missing array "${key}".`);
  return v;
}

function scalar(v: unknown): unknown {
  if (isNdArray(v)) {
    const d = v.data as ArrayLike<unknown>;
    const x = d[0];
    return typeof x === 'bigint' ? Number(x) : x;
  }
  return v;
}

/** Applies a neuron mask to every array of a field that has N entries along its first (or else second) axis. */
function maskField(field: Field, mask: boolean[]): Field {
  const n = mask.length;
  const out: Field = {};
  for (const [k, v] of Object.entries(field)) {
    if (!isNdArray(v) || k === 'roi_mask' || k === 'roi_coords' || v.shape.length === 0 || v.shape.length > 2) {
      out[k] = v;
      continue;
    }
    const data = v.data as ArrayLike<unknown>;
    if (v.shape[0] === n) {
      const cols = v.shape.length === 2 ? v.shape[1]! : 1;
      const keep: unknown[] = [];
      for (let i = 0; i < n; i++) if (mask[i]) for (let j = 0; j < cols; j++) keep.push(data[i * cols + j]);
      out[k] = { data: keep, shape: v.shape.length === 2 ? [keep.length / cols, cols] : [keep.length], dtype: v.dtype };
    } else if (v.shape.length === 2 && v.shape[1] === n) {
      const rows = v.shape[0]!;
      const keep: unknown[] = [];
      for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) if (mask[i]) keep.push(data[r * n + i]);
      out[k] = { data: keep, shape: [rows, keep.length / rows], dtype: v.dtype };
    } else {
      out[k] = v;
    }
  }
  return out;
}

function nOf(field: Field): number {
  const g = field.group_assignment;
  return isNdArray(g) ? (g.shape[0] ?? 0) : 0;
}

/**
 * Höfling 2024 quality filter (OpenRetina's `filter_responses`): keep the given cell types, keep neurons with
 * `chirp_qi ≥ chirpQi` OR (or AND) `d_qi ≥ dQi`, keep neurons whose maximal classifier confidence reaches the
 * threshold, optionally drop fields with too few neurons; fields left empty are dropped.
 */
export function filterHoeflingResponses(
  all: Readonly<Record<string, NdTree>>,
  checks: Partial<HoeflingQualityChecks> = {},
): Record<string, NdTree> {
  const c = { ...HOEFLING_2024_QUALITY_CHECKS, ...checks };
  const out: Record<string, NdTree> = {};
  // neurons and fields left after each step: original, cell types, quality indices, classifier confidence, counts
  const neurons = [0, 0, 0, 0, 0];
  const fields = [0, 0, 0, 0, 0];
  const tally = (stage: number, n: number) => {
    neurons[stage]! += n;
    if (n > 0) fields[stage]! += 1;
  };
  for (const [name, f0] of Object.entries(all)) {
    let f: Field = f0 as Field;
    const step = (mask: boolean[]) => {
      f = maskField(f, mask);
    };
    const n = () => nOf(f);
    tally(0, n());
    if (c.filterCellTypes) {
      const types = toNumberArray(arr(f, 'group_assignment', name).data);
      step(types.map((t) => c.cellTypesList.includes(t)));
    }
    tally(1, n());
    if (n() > 0) {
      const cq = toNumberArray(arr(f, 'chirp_qi', name).data);
      const dq = toNumberArray(arr(f, 'd_qi', name).data);
      step(cq.map((v, i) => (c.qiLogic === 'and' ? v >= c.chirpQi && dq[i]! >= c.dQi : v >= c.chirpQi || dq[i]! >= c.dQi)));
    }
    tally(2, n());
    if (n() > 0 && c.classifierConfidence > 0) {
      const conf = arr(f, 'group_confidences', name);
      const vals = toNumberArray(conf.data);
      const cols = conf.shape[1] ?? 1;
      const mask: boolean[] = [];
      for (let i = 0; i < n(); i++) mask.push(Math.max(...vals.slice(i * cols, (i + 1) * cols)) >= c.classifierConfidence);
      step(mask);
    }
    tally(3, n());
    if (n() === 0) continue;
    if (c.filterCounts && n() <= c.countThreshold) continue;
    tally(4, n());
    out[name] = f as NdTree;
  }
  if (c.report) {
    const steps = ['original', 'of the target cell types', 'passing the quality indices', 'above the classifier confidence', 'in fields with enough neurons'];
    steps.forEach((what, i) => c.report!(`quality checks: ${neurons[i]} neurons in ${fields[i]} fields ${i === 0 ? '(before filtering)' : what}`));
  }
  return out;
}

/** `np.interp`: linear interpolation of (xp, fp) at x, clamped to the end values outside. */
export function interp(x: ArrayLike<number>, xp: ArrayLike<number>, fp: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  const m = xp.length;
  let j = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v <= xp[0]!) {
      out[i] = fp[0]!;
      continue;
    }
    if (v >= xp[m - 1]!) {
      out[i] = fp[m - 1]!;
      continue;
    }
    if (j > 0 && xp[j]! > v) j = 0; // x not sorted: restart the scan
    while (j < m - 2 && xp[j + 1]! <= v) j++;
    const x0 = xp[j]!;
    const x1 = xp[j + 1]!;
    out[i] = x1 === x0 ? fp[j]! : fp[j]! + ((fp[j + 1]! - fp[j]!) * (v - x0)) / (x1 - x0);
  }
  return out;
}

/** Options of {@link upsampleTraces}. */
export interface UpsampleOptions {
  /** Seconds from a trigger to its last frame (movie: 4.9666667). */
  duration: number;
  /** Frames per trigger (movie: 150). */
  framesPerTrigger: number;
  /** Divide each neuron by its standard deviation (ddof 0; default true). */
  normByStd?: boolean;
}

/**
 * Höfling trigger upsampling: each trigger `t` becomes `linspace(t, t + duration, framesPerTrigger)`; each trace is
 * linearly interpolated at those times and optionally divided by its std. Returns `(N, triggers · frames)` row-major.
 */
export function upsampleTraces(
  triggerTimes: ArrayLike<number>,
  traces: { data: ArrayLike<number>; shape: readonly number[] },
  traceTimes: { data: ArrayLike<number>; shape: readonly number[] },
  options: UpsampleOptions,
): { data: Float64Array; shape: [number, number] } {
  const [n, t] = traces.shape as [number, number];
  if (traceTimes.shape[0] !== n || traceTimes.shape[1] !== t) {
    throw new ShapeError(`Trace times ${formatShape(traceTimes.shape)} do not match traces ${formatShape(traces.shape)}.`);
  }
  const f = options.framesPerTrigger;
  const times = new Float64Array(triggerTimes.length * f);
  for (let k = 0; k < triggerTimes.length; k++) {
    for (let i = 0; i < f; i++) times[k * f + i] = triggerTimes[k]! + (f === 1 ? 0 : (options.duration * i) / (f - 1));
  }
  const out = new Float64Array(n * times.length);
  const sliceOf = (a: ArrayLike<number>, i: number) => Array.prototype.slice.call(a, i * t, (i + 1) * t) as number[];
  for (let i = 0; i < n; i++) {
    const row = interp(times, sliceOf(traceTimes.data, i), sliceOf(traces.data, i));
    if (options.normByStd ?? true) {
      let mean = 0;
      for (const v of row) mean += v;
      mean /= row.length;
      let ss = 0;
      for (const v of row) ss += (v - mean) ** 2;
      const sd = Math.sqrt(ss / row.length);
      for (let j = 0; j < row.length; j++) row[j] = row[j]! / sd;
    }
    out.set(row, i * times.length);
  }
  return { data: out, shape: [n, times.length] };
}

/** Options of {@link hoeflingResponsesFromFields}. */
export interface HoeflingResponseOptions {
  /** `spikes` (default; `natural_inferred_spikes` or `natural_spikes`), `raw`, `preprocessed` or `detrended`. */
  traceType?: 'spikes' | 'raw' | 'preprocessed' | 'detrended';
  normByStd?: boolean;
  scaleTraces?: number;
  /** Quality checks (default Höfling 2024's); `false` skips filtering. */
  qualityChecks?: Partial<HoeflingQualityChecks> | false;
  numClips?: number;
  clipLength?: number;
  triggerDuration?: number;
}

/**
 * Natural-movie responses per field (OpenRetina's `filter_responses` + `make_final_responses(response_type="natural")`):
 * quality filter, trigger upsampling to one value per frame, std normalisation, then the test responses = the mean of
 * the three repeats of the 5 test clips (clip positions [0, 5), [5 + k, 10 + k), [10 + 2k, 15 + 2k) with
 * k = numClips / 2) and train = the remaining clips in presentation order. By-trial test responses are `[3, T, N]`.
 * Session kwargs: `eye`, `scan_sequence_idx` (one-element arrays), `group_assignment`, `roi_ids`.
 */
export function hoeflingResponsesFromFields(
  all: Readonly<Record<string, NdTree>>,
  options: HoeflingResponseOptions = {},
): Record<string, ResponseSplit> {
  const fields = options.qualityChecks === false ? { ...all } : filterHoeflingResponses(all, options.qualityChecks ?? {});
  const clip = options.clipLength ?? HOEFLING_2024.clipLength;
  const numClips = options.numClips ?? HOEFLING_2024.numClips;
  const duration = options.triggerDuration ?? HOEFLING_2024.movieTriggerDuration;
  const half = numClips / 2;
  if (!Number.isInteger(half)) throw new ConfigError(`numClips must be even, got ${numClips}.`);
  const traceType = options.traceType ?? 'spikes';
  const out: Record<string, ResponseSplit> = {};
  for (const name of Object.keys(fields).sort()) {
    const f = fields[name] as Field;
    let traces: NdArray;
    if (traceType === 'spikes') traces = isNdArray(f.natural_inferred_spikes) ? f.natural_inferred_spikes : arr(f, 'natural_spikes', name);
    else if (traceType === 'detrended') {
      const raw = arr(f, 'natural_raw_traces', name);
      const sm = toNumberArray(arr(f, 'natural_smoothed_traces', name).data);
      traces = { data: toNumberArray(raw.data).map((v, i) => v - sm[i]!), shape: raw.shape, dtype: raw.dtype };
    } else traces = arr(f, `natural_${traceType}_traces`, name);
    const [n, t] = traces.shape as [number, number];
    const trig = arr(f, 'natural_trigger_times', name);
    const triggers = toNumberArray(trig.data).slice(0, trig.shape.length === 2 ? trig.shape[1] : trig.shape[0]);
    let times: { data: ArrayLike<number>; shape: number[] };
    if (isNdArray(f.natural_traces_times))
      times = { data: toNumberArray(f.natural_traces_times.data), shape: f.natural_traces_times.shape };
    else {
      const t0 = toNumberArray(arr(f, 'natural_traces_t0', name).data);
      const dt = toNumberArray(arr(f, 'natural_traces_dt', name).data);
      const d = new Float64Array(n * t);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < t; j++) d[i * t + j] = j * dt[t0.length === 1 ? 0 : i]! + t0[t0.length === 1 ? 0 : i]!;
      times = { data: d, shape: [n, t] };
    }
    const up = upsampleTraces(triggers, { data: toNumberArray(traces.data), shape: traces.shape }, times, {
      duration,
      framesPerTrigger: clip,
      normByStd: options.normByStd ?? true,
    });
    const scale = options.scaleTraces ?? 1;
    const total = up.shape[1];
    if (total !== (15 + numClips) * clip) {
      throw new DataError(
        `${name}: ${triggers.length} triggers give ${total} frames; expected ${(15 + numClips) * clip} (5 test clips × 3 repeats + ${numClips} train clips of ${clip} frames).`,
      );
    }
    const frame = (i: number, j: number) => up.data[i * total + j]! * scale;
    const testLen = 5 * clip;
    const repStarts = [0, (5 + half) * clip, (10 + numClips) * clip];
    const trainRanges: [number, number][] = [
      [5 * clip, (5 + half) * clip],
      [(10 + half) * clip, (10 + numClips) * clip],
    ];
    const byTrial = new Float32Array(3 * testLen * n);
    const test = new Float32Array(testLen * n);
    for (let r = 0; r < 3; r++) {
      for (let j = 0; j < testLen; j++) {
        for (let i = 0; i < n; i++) {
          const v = frame(i, repStarts[r]! + j);
          byTrial[(r * testLen + j) * n + i] = v;
          test[j * n + i] = test[j * n + i]! + v / 3;
        }
      }
    }
    const trainT = numClips * clip;
    const train = new Float32Array(trainT * n);
    let row = 0;
    for (const [a, b] of trainRanges) for (let j = a; j < b; j++, row++) for (let i = 0; i < n; i++) train[row * n + i] = frame(i, j);
    const kw: Record<string, unknown[]> = {
      eye: [String(scalar(f.eye) ?? 'right')],
      scan_sequence_idx: [Number(scalar(f.scan_sequence_idx) ?? 0)],
    };
    if (isNdArray(f.group_assignment)) kw.group_assignment = toNumberArray(f.group_assignment.data);
    if (isNdArray(f.roi_ids)) kw.roi_ids = toNumberArray(f.roi_ids.data);
    const testByTrial: TrialResponses = { data: byTrial, shape: [3, testLen, n] };
    out[name] = createResponseSplit({
      train: { data: train, shape: [trainT, n] } satisfies Responses,
      test: { data: test, shape: [testLen, n] },
      testByTrial,
      stimId: 'natural',
      sessionKwargs: kw,
    });
  }
  return out;
}

/** A `MovieSplit` from an unpickled Höfling stimulus dict (`train`, `test`, `random_sequences`, `movie_stats`). */
export function hoeflingMoviesFromPickle(obj: unknown, source = 'pickle'): MovieSplit {
  const d = obj as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || !isNdArray(d.train) || !isNdArray(d.test)) {
    throw new DataError(`${source}: expected a dict with "train" and "test" arrays.`);
  }
  const toMovie = (a: NdArray) => movieFromCTHW(toFloat32(a.data as ArrayLike<number>), a.shape);
  const stats = ((d.movie_stats as Record<string, unknown> | undefined)?.dichromatic ?? {}) as Record<string, unknown>;
  const statValue = (v: unknown) => (v === undefined ? NaN : Number(scalar(v)));
  let randomSequences: MovieSplit['randomSequences'];
  if (isNdArray(d.random_sequences)) {
    const rs = d.random_sequences;
    randomSequences = { data: Int32Array.from(toNumberArray(rs.data)), shape: [rs.shape[0]!, rs.shape[1] ?? 1] };
  }
  return createMovieSplit({
    train: toMovie(d.train),
    test: toMovie(d.test),
    ...(randomSequences ? { randomSequences } : {}),
    normMean: statValue(stats.mean),
    normStd: statValue(stats.sd),
  });
}

function flipWidth(data: Float32Array, t: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let f = 0; f < t; f++) {
    for (let y = 0; y < h; y++) {
      const row = (f * h + y) * w;
      for (let x = 0; x < w; x++) out.set(data.subarray((row + x) * c, (row + x + 1) * c), (row + (w - 1 - x)) * c);
    }
  }
  return out;
}

/** Options of {@link hoefling2024Dataloaders} (OpenRetina's `natmov_dataloaders_v2`). */
export interface HoeflingDataloaderOptions {
  validationClipIndices?: readonly number[];
  trainChunkSize?: number;
  batchSize?: number;
  numClips?: number;
  clipLength?: number;
  allowOverBoundaries?: boolean;
  seed?: number;
}

/**
 * Train/validation/test loaders for Höfling 2024 natural-movie sessions: each session's train movie is the train clips
 * in that session's presentation order (`random_sequences[:, scan_sequence_idx]`) without the validation clips, flipped
 * left-right for left-eye recordings (except `session_2_ventral2_20200626`); validation = the validation clips in the
 * given order; test = the whole test movie. Movies are views of the shared train movie (one flipped copy for left eyes).
 */
export function hoefling2024Dataloaders(
  responses: Readonly<Record<string, ResponseSplit>>,
  movies: MovieSplit,
  options: HoeflingDataloaderOptions = {},
): DataloaderDict {
  const val = [...(options.validationClipIndices ?? HOEFLING_2024.validationClipIndices)];
  const chunk = options.trainChunkSize ?? 50;
  const bs = options.batchSize ?? 32;
  const numClips = options.numClips ?? HOEFLING_2024.numClips;
  const clip = options.clipLength ?? HOEFLING_2024.clipLength;
  const allow = options.allowOverBoundaries ?? true;
  const seed = options.seed ?? 42;
  const [tTrain, h, w, c] = movies.train.shape;
  const fs = h * w * c;
  if (tTrain < numClips * clip) throw new DataError(`The train movie has ${tTrain} frames, fewer than ${numClips} clips of ${clip}.`);
  const testName = Object.keys(movies.test)[0]!;
  const testMovie = movies.test[testName]!;
  const rs = movies.randomSequences ?? { data: Int32Array.from({ length: numClips }, (_, i) => i), shape: [numClips, 1] as const };
  const nSeq = rs.shape[1];
  const flipped: { train?: Float32Array; test?: Float32Array } = {};
  const eyeData = (eye: string) => {
    if (eye !== 'left') return { train: movies.train.data, test: testMovie.data };
    flipped.train ??= flipWidth(movies.train.data, tTrain, h, w, c);
    flipped.test ??= flipWidth(testMovie.data, testMovie.shape[0], h, w, c);
    return { train: flipped.train, test: flipped.test };
  };
  const out: DataloaderDict = { train: {}, validation: {}, test: {} };
  for (const session of Object.keys(responses).sort()) {
    const r = responses[session]!;
    const n = r.train.shape[1];
    const kw = r.sessionKwargs ?? {};
    let eye = String((kw.eye as unknown[] | undefined)?.[0] ?? 'right');
    if (session === 'session_2_ventral2_20200626') eye = 'right';
    const seq = movies.randomSequences ? Number((kw.scan_sequence_idx as unknown[] | undefined)?.[0] ?? 0) : 0;
    if (seq < 0 || seq >= nSeq) throw new DataError(`${session}: scan_sequence_idx ${seq} is outside the ${nSeq} random sequences.`);
    const order = Array.from({ length: numClips }, (_, k) => rs.data[k * nSeq + seq]!);
    const shownAt = new Array<number>(numClips);
    order.forEach((clipIdx, pos) => {
      shownAt[clipIdx] = pos;
    });
    const valSet = new Set(val);
    const trainOrder = order.filter((k) => !valSet.has(k));
    const data = eyeData(eye);
    const trainMovie = FrameSequence.fromClips(data.train, fs, clip, trainOrder);
    const valMovie = FrameSequence.fromClips(data.train, fs, clip, val);
    const valPos = val.map((v) => shownAt[v]!);
    const valPosSet = new Set(valPos);
    const trainPos = Array.from({ length: numClips }, (_, p) => p).filter((p) => !valPosSet.has(p));
    const trainResp = FrameSequence.fromClips(r.train.data, n, clip, trainPos);
    const valResp = FrameSequence.fromClips(r.train.data, n, clip, valPos);
    const frameShape: [number, number, number] = [h, w, c];
    const base = { sceneLength: clip, allowOverBoundaries: allow, session };
    out.train![session] = new MovieDataLoader(trainMovie, frameShape, trainResp, {
      ...base,
      split: 'train',
      chunkSize: chunk,
      batchSize: bs,
      seed: deriveSeed(seed, `train/${session}`),
    });
    out.validation![session] = new MovieDataLoader(valMovie, frameShape, valResp, {
      ...base,
      split: 'validation',
      chunkSize: clip,
      batchSize: bs,
    });
    const testResp = r.test[testName] ?? Object.values(r.test)[0]!;
    const tT = testMovie.shape[0];
    const byTrial = r.testByTrial?.[testName] ?? (r.testByTrial ? Object.values(r.testByTrial)[0] : undefined);
    out.test![session] = new MovieDataLoader(FrameSequence.of(data.test, fs), frameShape, FrameSequence.of(testResp.data, n), {
      ...base,
      split: 'test',
      chunkSize: tT,
      batchSize: computeTestBatchSize(bs, chunk, tT),
      ...(byTrial ? { testResponsesByTrial: byTrial } : {}),
    });
  }
  return out;
}
