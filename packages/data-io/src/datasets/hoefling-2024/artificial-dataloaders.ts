import type { Movie } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { FrameSequence } from '../../frames.js';
import { flipWidth } from '../../layout.js';
import { MovieDataLoader, type NanPolicy } from '../../loaders/movie-dataloader.js';
import type { DataloaderDict } from '../../loaders/multiple-movies.js';
import { deriveSeed } from '../../random/derive-seed.js';
import { HOEFLING_2024_UPSAMPLING } from './constants.js';
import { fieldArray, fieldScalar } from './fields.js';
import type { HoeflingUpsampledField } from './upsampling.js';

/** Options of {@link hoeflingChirpDataloaders} and {@link hoeflingMovingBarDataloaders}. */
export interface HoeflingArtificialDataloaderOptions {
  /**
   * One presentation of the stimulus `[T, H, W, C]`: one chirp, or the eight bars of one moving-bar repetition.
   * OpenRetina reads it from `RGC_Chirp_30Hz_18_16.pickle` / `RGC_MovingBar_30Hz_18_16.pickle`, which it does not
   * distribute: read those files with `loadStimulus` / `loadMovingBar`, or generate `chirpStimulus()` /
   * `movingBarStimulus()`. Its frames must line up with the upsampled responses (990 per chirp, 123 per bar).
   */
  stimulus: Movie;
  /** Frames per training sample (default: one chirp, or one bar); shorter chunks start at a random shift. */
  trainChunkSize?: number;
  /** Default 32. */
  batchSize?: number;
  /** Seed of the shift and shuffle stream when `trainChunkSize` is shorter than a presentation (default 42). */
  seed?: number;
  /** Default `'skip'` (as OpenRetina: a field with NaN responses gets no loader). */
  nanPolicy?: NanPolicy;
}

interface Presentation {
  kind: 'chirp' | 'mb';
  /** Samples per stimulus presentation (1 per chirp, 8 per moving-bar repetition). */
  samplesPerPresentation: number;
  /** Triggers per presentation. */
  triggersPerPresentation: number;
}

function artificialLoaders(
  fields: Readonly<Record<string, HoeflingUpsampledField>>,
  options: HoeflingArtificialDataloaderOptions,
  p: Presentation,
): DataloaderDict {
  const names = Object.keys(fields).sort();
  if (names.length === 0) throw new DataError(`No ${p.kind} fields to make loaders of.`);
  const first = fields[names[0]!]!;
  const expectedId = HOEFLING_2024_UPSAMPLING[p.kind].stimId;
  if (first.stimId !== expectedId) {
    throw new DataError(`These loaders need ${p.kind} responses (stim id ${expectedId}); the fields hold stim id ${first.stimId}.`);
  }
  // As OpenRetina: the number of presentations comes from the first field's trigger times.
  const trig = fieldArray(first.field as Record<string, unknown>, `${p.kind}_trigger_times`, names[0]!);
  const triggers = trig.shape.length === 2 ? trig.shape[1]! : trig.shape[0]!;
  const presentations = Math.floor(triggers / p.triggersPerPresentation);
  if (presentations < 1) throw new DataError(`${names[0]}: ${triggers} ${p.kind} triggers are fewer than one presentation.`);
  const [tStim, h, w, c] = options.stimulus.shape;
  const fs = h * w * c;
  const total = tStim * presentations;
  const scene = Math.floor(total / (presentations * p.samplesPerPresentation));
  const chunk = options.trainChunkSize ?? scene;
  const batchSize = options.batchSize ?? 32;
  for (const [k, v] of [
    ['trainChunkSize', chunk],
    ['batchSize', batchSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${k} must be a positive integer, got ${v}.`);
  }
  const repeated = new Float32Array(total * fs);
  for (let r = 0; r < presentations; r++) repeated.set(options.stimulus.data, r * tStim * fs);
  let mirrored: Float32Array | undefined;
  const starts: number[] = [];
  for (let s = 0; s < total - 1; s += scene) starts.push(s);
  const train: DataloaderDict[string] = {};
  for (const name of names) {
    const u = fields[name]!;
    const [n, t] = u.responses.shape;
    if (t !== total) {
      throw new DataError(
        `${name}: the upsampled ${p.kind} responses have ${t} frames; ${presentations} presentations of the ${tStim}-frame stimulus have ${total}.`,
      );
    }
    const responses = new Float32Array(t * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < t; j++) responses[j * n + i] = u.responses.data[i * t + j]!;
    const resp = FrameSequence.of(responses, n);
    const session = `${name}_${p.kind}`;
    if (resp.hasNaN()) {
      if ((options.nanPolicy ?? 'skip') === 'error') throw new DataError(`${session}: the responses contain NaN.`);
      continue;
    }
    const eye = String(fieldScalar((u.field as Record<string, unknown>).eye) ?? 'right');
    if (eye !== 'right') mirrored ??= flipWidth(repeated, total, h, w, c);
    const movie = eye === 'right' ? repeated : mirrored!;
    train[session] = new MovieDataLoader(FrameSequence.of(movie, fs), [h, w, c], resp, {
      split: 'train',
      sceneLength: scene,
      chunkSize: chunk,
      batchSize,
      startIndices: starts,
      dropLast: false,
      session,
      seed: deriveSeed(options.seed ?? 42, `train/${session}`),
    });
  }
  return { train };
}

/**
 * Training loaders on the chirp responses (OpenRetina's `get_chirp_dataloaders`, which cannot run as written in
 * OpenRetina 1.1.1): `fields` from `upsampleHoeflingResponses(…, 'chirp')`; the chirp is repeated once per chirp of
 * the first field (two triggers each), mirrored left-right for left-eye fields, and served one sample per chirp
 * (whole chirps by default, in order; no batch is dropped). Loaders are keyed `<field>_chirp`, in the `train` fold.
 */
export function hoeflingChirpDataloaders(
  fields: Readonly<Record<string, HoeflingUpsampledField>>,
  options: HoeflingArtificialDataloaderOptions,
): DataloaderDict {
  return artificialLoaders(fields, options, { kind: 'chirp', samplesPerPresentation: 1, triggersPerPresentation: 2 });
}

/**
 * Training loaders on the moving-bar responses (OpenRetina's `get_mb_dataloaders`, which cannot run as written in
 * OpenRetina 1.1.1): `fields` from `upsampleHoeflingResponses(…, 'mb')`; the stimulus (the eight bars of one
 * repetition) is repeated once per 8 triggers of the first field, mirrored for left-eye fields, and served one sample
 * per bar (whole bars by default, in order; no batch is dropped). Loaders are keyed `<field>_mb`, in the `train` fold.
 */
export function hoeflingMovingBarDataloaders(
  fields: Readonly<Record<string, HoeflingUpsampledField>>,
  options: HoeflingArtificialDataloaderOptions,
): DataloaderDict {
  return artificialLoaders(fields, options, { kind: 'mb', samplesPerPresentation: 8, triggersPerPresentation: 8 });
}
