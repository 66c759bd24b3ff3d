import type { LazyMovie, LazyResponses, Movie, MovieSplit, ResponseSplit, Responses } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { FrameSequence } from '../../frames.js';
import { computeTestBatchSize } from '../../loaders/clip-splits.js';
import { MovieDataLoader } from '../../loaders/movie-dataloader.js';
import type { DataloaderDict } from '../../loaders/multiple-movies.js';
import { flipWidth } from '../../layout.js';
import { movieInMemory, responsesInMemory } from '../../lazy-data.js';
import { deriveSeed } from '../../random/derive-seed.js';
import { HOEFLING_2024 } from './constants.js';

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
 * given order; test = the whole test movie. Movies are views of the shared train movie (one flipped copy for left eyes);
 * a movie or responses read on demand are read whole here (the flipped copy needs the whole movie).
 */
export function hoefling2024Dataloaders(
  responses: Readonly<Record<string, ResponseSplit<Responses | LazyResponses>>>,
  movies: MovieSplit<Movie | LazyMovie>,
  options: HoeflingDataloaderOptions = {},
): DataloaderDict {
  const val = [...(options.validationClipIndices ?? HOEFLING_2024.validationClipIndices)];
  const chunk = options.trainChunkSize ?? 50;
  const bs = options.batchSize ?? 32;
  const numClips = options.numClips ?? HOEFLING_2024.numClips;
  const clip = options.clipLength ?? HOEFLING_2024.clipLength;
  const allow = options.allowOverBoundaries ?? true;
  const seed = options.seed ?? 42;
  const trainData = movieInMemory(movies.train).data;
  const [tTrain, h, w, c] = movies.train.shape;
  const fs = h * w * c;
  if (tTrain < numClips * clip) throw new DataError(`The train movie has ${tTrain} frames, fewer than ${numClips} clips of ${clip}.`);
  const testName = Object.keys(movies.test)[0]!;
  const testMovie = movies.test[testName]!;
  const rs = movies.randomSequences ?? { data: Int32Array.from({ length: numClips }, (_, i) => i), shape: [numClips, 1] as const };
  const nSeq = rs.shape[1];
  const flipped: { train?: Float32Array; test?: Float32Array } = {};
  const eyeData = (eye: string) => {
    if (eye !== 'left') return { train: trainData, test: testMovie.data };
    flipped.train ??= flipWidth(trainData, tTrain, h, w, c);
    flipped.test ??= flipWidth(testMovie.data, testMovie.shape[0], h, w, c);
    return { train: flipped.train, test: flipped.test };
  };
  const out: DataloaderDict = { train: {}, validation: {}, test: {} };
  for (const session of Object.keys(responses).sort()) {
    const r = responses[session]!;
    const rTrain = responsesInMemory(r.train).data;
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
    const trainResp = FrameSequence.fromClips(rTrain, n, clip, trainPos);
    const valResp = FrameSequence.fromClips(rTrain, n, clip, valPos);
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
