// OpenRetina's smaller data pieces against our counterparts, on the outputs of
// fixtures/data-io/make_openretina_pieces_fixtures.py (fixtures/data-io/openretina_pieces/).
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Movie, SessionBatch } from '@openretina/contracts';
import { parseNpz, readPickle, toPlain } from '@openretina/formats';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BADEN_TYPE_BOUNDARIES,
  HOEFLING_2024_UPSAMPLING,
  RGC_GROUP_CLASS_NAMES,
  RGC_GROUP_NAMES,
  alignStimulusToTrigger,
  computeDataloaderStatistics,
  createMovieSplit,
  createResponseSplit,
  type DatasetStatistics,
  discretizeTriggers,
  emptyDatasetStatistics,
  formatH5Structure,
  frameFingerprints,
  frameTransitions,
  h5Structure,
  h5ToFolders,
  hoeflingChirpDataloaders,
  hoeflingMovingBarDataloaders,
  loadDatasetFromH5,
  loadH5IntoDict,
  loadMovingBar,
  loadMovingBarStack,
  loadStimulus,
  movieFromCTHW,
  multipleMoviesDataloaders,
  type NdArray,
  normalizeStimulus,
  responsesFromNT,
  upsampleHoeflingResponses,
} from '../src/node.js';
import { FIXTURES } from './helpers.js';

await tf.setBackend('cpu');
const P = `${FIXTURES}openretina_pieces/`;
const tmp = mkdtempSync(join(tmpdir(), 'dataio-pieces-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const json = <T>(path: string): T => JSON.parse(readFileSync(`${P}${path}`, 'utf8')) as T;
function npz(path: string): (key: string) => { data: Float64Array; shape: number[] } {
  const z = parseNpz(new Uint8Array(readFileSync(`${P}${path}`)));
  return (key) => {
    const a = z[key];
    if (!a) throw new Error(`no ${key} in ${path}`);
    return { data: Float64Array.from(a.data as ArrayLike<number>, Number), shape: a.shape };
  };
}
function relDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  expect(ours.length).toBe(theirs.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - theirs[i]!));
    scale = Math.max(scale, Math.abs(theirs[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}
/** The make_*.py checksums: the sum and a position-weighted sum (weights 1..13 repeating) in float64. */
function checksums(values: ArrayLike<number>): [number, number] {
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    weighted += values[i]! * ((i % 13) + 1);
  }
  return [sum, weighted];
}
/** `[B, T, H, W, C]` → OpenRetina's `(B, C, T, H, W)`. */
function bcthw(data: ArrayLike<number>, [b, t, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < b!; i++)
    for (let f = 0; f < t!; f++)
      for (let p = 0; p < h! * w!; p++)
        for (let k = 0; k < c!; k++) out[((i * c! + k) * t! + f) * h! * w! + p] = data[((i * t! + f) * h! * w! + p) * c! + k]!;
  return out;
}
/** OpenRetina's `(B, C, T, H, W)` → `[B, T, H, W, C]`. */
function btwhc(data: ArrayLike<number>, [b, c, t, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < b!; i++)
    for (let k = 0; k < c!; k++)
      for (let f = 0; f < t!; f++)
        for (let p = 0; p < h! * w!; p++) out[((i * t! + f) * h! * w! + p) * c! + k] = data[((i * c! + k) * t! + f) * h! * w! + p]!;
  return out;
}
const snakeStats = (s: DatasetStatistics) => ({
  n_sessions: s.nSessions,
  unique_test_frames: s.uniqueTestFrames,
  unique_test_transitions: s.uniqueTestTransitions,
  unique_train_frames: s.uniqueTrainFrames,
  unique_train_transitions: s.uniqueTrainTransitions,
  unique_train_val_frames: s.uniqueTrainValFrames,
  unique_val_frames: s.uniqueValFrames,
  unique_val_transitions: s.uniqueValTransitions,
});

describe('Höfling 2024 cell types and stimulus ids (OpenRetina hoefling_2024/constants.py)', () => {
  const c = json<Record<string, Record<string, unknown>>>('constants.json');
  it('has the same names, classes, class boundaries and stimulus ids', () => {
    expect(Object.fromEntries(Object.entries(RGC_GROUP_NAMES).map(([k, v]) => [String(k), v]))).toEqual(c.RGC_GROUP_NAMES_DICT);
    expect(Object.fromEntries(Object.entries(RGC_GROUP_CLASS_NAMES).map(([k, v]) => [String(k), v]))).toEqual(
      c.RGC_GROUP_GROUP_ID_TO_CLASS_NAME,
    );
    expect(BADEN_TYPE_BOUNDARIES).toEqual(c.BADEN_TYPE_BOUNDARIES);
    expect(Object.fromEntries(Object.entries(HOEFLING_2024_UPSAMPLING).map(([k, v]) => [k, v.stimId]))).toEqual(c.STIMULI_IDS);
  });
});

describe('artificial stimuli (OpenRetina data_io/artificial_stimuli.py)', () => {
  const meta = json<{
    discretize_triggers: { times: number[]; '30': number[]; '60': number[] };
    align_printed: string;
    load_stimulus: Record<
      string,
      { normalize: boolean; trigger_times: number[] | null; num_triggers_per_repetition: number; downsample_t_factor?: number }
    >;
  }>('artificial/expected.json');
  const exp = npz('artificial/expected.npz');
  const chirp = toPlain(readPickle(new Uint8Array(readFileSync(`${P}artificial/chirp_tiny.pickle`)))) as NdArray;

  it('normalize_stimulus, discretize_triggers and align_stimulus_to_trigger', () => {
    expect(Array.from(normalizeStimulus(chirp.data as ArrayLike<number>))).toEqual(Array.from(exp('normalized').data));
    const d = meta.discretize_triggers;
    expect(discretizeTriggers(d.times)).toEqual(d['30']);
    expect(discretizeTriggers(d.times, 60)).toEqual(d['60']);
    const warnings: string[] = [];
    const stimulus: Movie = {
      data: Float32Array.from(chirp.data as ArrayLike<number>),
      shape: chirp.shape as [number, number, number, number],
    };
    const aligned = alignStimulusToTrigger(stimulus, [2, 10, 12, 30], { onWarning: (m) => warnings.push(m) });
    expect(aligned.shape).toEqual(exp('aligned').shape);
    expect(Array.from(aligned.data)).toEqual(Array.from(exp('aligned').data));
    expect(meta.align_printed).toMatch(/trigger_time=12 current_idx=16/);
    expect(warnings).toEqual(['trigger 12 comes before frame 16, where the previous stimulus ended']);
    expect(() => alignStimulusToTrigger(stimulus, [])).toThrow(/no trigger times/);
  });

  it('load_stimulus: frame step, two channels, trigger alignment, normalisation', async () => {
    for (const [key, o] of Object.entries(meta.load_stimulus)) {
      const movie = await loadStimulus(`${P}artificial/chirp_tiny.pickle`, {
        normalize: o.normalize,
        triggerTimes: o.trigger_times,
        numTriggersPerRepetition: o.num_triggers_per_repetition,
        ...(o.downsample_t_factor ? { downsampleTFactor: o.downsample_t_factor } : {}),
      });
      expect(movie.shape, key).toEqual(exp(key).shape);
      expect(Array.from(movie.data), key).toEqual(Array.from(exp(key).data));
    }
  });

  it('load_moving_bar_stack: the dark frames trimmed, one movie per bar', async () => {
    const bars = await loadMovingBarStack(`${P}artificial/moving_bar_tiny.pickle`);
    const expected = exp('moving_bar_stack');
    expect([bars.length, ...bars[0]!.shape]).toEqual(expected.shape);
    expect(bars.flatMap((b) => Array.from(b.data))).toEqual(Array.from(expected.data));
    await expect(loadMovingBarStack(`${P}artificial/moving_bar_tiny.pickle`, { numberOfMovingBars: 5 })).rejects.toThrow(
      /24 frames, which do not split into 5 equal bars/,
    );
  });
});

describe('Höfling 2024 chirp and moving bar (upsample_all_responses, get_chirp_dataloaders, get_mb_dataloaders)', () => {
  interface Meta {
    upsampled: Record<string, Record<string, { shape: number[]; stim_id?: number; roi_ids?: number[]; checksums?: [number, number] }>>;
    loaders: Record<
      string,
      Record<
        string,
        {
          start_indices: number[];
          chunk_size: number;
          batches: { inputs_shape: number[]; inputs: [number, number]; targets_shape: number[]; targets: [number, number] }[];
        }
      >
    >;
  }
  const meta = json<Meta>('hoefling_artificial/expected.json');
  const exp = npz('hoefling_artificial/expected.npz');
  const fields = async () => (await loadH5IntoDict(`${P}hoefling_artificial/responses.h5`)) as Record<string, never>;

  it('upsamples chirp (every second trigger, 990 frames) and moving-bar (123 frames per bar) traces as OpenRetina does', async () => {
    const all = await fields();
    for (const kind of ['chirp', 'mb'] as const) {
      const up = upsampleHoeflingResponses(all, kind);
      expect(Object.keys(up).sort()).toEqual(Object.keys(meta.upsampled[kind]!).sort());
      for (const [name, m] of Object.entries(meta.upsampled[kind]!)) {
        expect(up[name]!.responses.shape).toEqual(m.shape);
        expect(up[name]!.stimId).toBe(m.stim_id);
        expect(relDiff(up[name]!.responses.data, exp(`${kind}_${name}_responses_final`).data)).toBeLessThan(1e-6);
      }
      const masked = upsampleHoeflingResponses(all, kind, { dQi: 0.05, chirpQi: 0.4, qiLogic: 'and', scaleTraces: 2, normByStd: false });
      for (const [name, m] of Object.entries(meta.upsampled[`${kind}_masked`]!)) {
        const u = masked[name]!;
        expect(u.responses.shape).toEqual(m.shape);
        expect(Array.from((u.field.roi_ids as NdArray).data as ArrayLike<number | bigint>, Number)).toEqual(m.roi_ids);
        expect(relDiff(checksums(u.responses.data), m.checksums!)).toBeLessThan(1e-9);
      }
    }
  });

  it('serves the same batches as OpenRetina (repeated stimulus, left eyes mirrored, one sample per chirp or bar)', async () => {
    const all = await fields();
    const before = tf.memory().numTensors;
    const stimuli = {
      chirp: await loadStimulus(`${P}hoefling_artificial/chirp_stimulus.pickle`, { normalize: true, numTriggersPerRepetition: 2 }),
      mb: await loadMovingBar(`${P}hoefling_artificial/mb_stimulus.pickle`),
    };
    for (const kind of ['chirp', 'mb'] as const) {
      const make = kind === 'chirp' ? hoeflingChirpDataloaders : hoeflingMovingBarDataloaders;
      const loaders = make(upsampleHoeflingResponses(all, kind), { stimulus: stimuli[kind], batchSize: 3 }).train!;
      expect(Object.keys(loaders).sort()).toEqual(Object.keys(meta.loaders[kind]!).sort());
      for (const [session, m] of Object.entries(meta.loaders[kind]!)) {
        const loader = loaders[session]!;
        expect(loader.sampler.indices).toEqual(m.start_indices);
        expect(loader.chunkSize).toBe(m.chunk_size);
        const batches = [...loader];
        expect(batches.length).toBe(m.batches.length);
        batches.forEach((b, k) => {
          const e = m.batches[k]!;
          const [bb, t, h, w, c] = b.inputs.shape as number[];
          expect([bb, c, t, h, w]).toEqual(e.inputs_shape);
          expect(b.targets.shape).toEqual(e.targets_shape);
          expect(relDiff(checksums(bcthw(b.inputs.dataSync(), b.inputs.shape)), e.inputs)).toBeLessThan(1e-7);
          expect(relDiff(checksums(b.targets.dataSync()), e.targets)).toBeLessThan(1e-6);
          tf.dispose([b.inputs, b.targets]);
        });
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    const chirp = upsampleHoeflingResponses(all, 'chirp');
    const short: Movie = { data: stimuli.chirp.data.subarray(0, 989 * 6), shape: [989, 1, 3, 2] };
    expect(() => hoeflingChirpDataloaders(chirp, { stimulus: short })).toThrow(
      /1980 frames; 2 presentations of the 989-frame stimulus have 1978/,
    );
    expect(() => hoeflingMovingBarDataloaders(chirp, { stimulus: stimuli.mb })).toThrow(
      /need mb responses \(stim id 2\); the fields hold stim id 1/,
    );
  });
});

describe('frame fingerprints and DatasetStatistics (OpenRetina utils/frame_fingerprints.py, data_io/base.py)', () => {
  interface Meta {
    transitions: number;
    unique_transitions: number;
    unique_frames: number;
    layout: Record<string, Record<string, number[][][]>>;
    statistics: ReturnType<typeof snakeStats>;
    empty: ReturnType<typeof snakeStats>;
    loader_statistics: ReturnType<typeof snakeStats>;
    loader_options: { train_chunk_size: number; batch_size: number; seed: number; clip_length: number; num_val_clips: number };
  }
  const meta = json<Meta>('fingerprints/expected.json');
  const exp = npz('fingerprints/expected.npz');

  it('fingerprints every frame (mean, unbiased std, first, last, off-centre pixel) and pairs consecutive frames', () => {
    const batch = exp('batch');
    const shape = [batch.shape[0]!, batch.shape[2]!, batch.shape[3]!, batch.shape[4]!, batch.shape[1]!];
    const fps = frameFingerprints({ data: btwhc(batch.data, batch.shape), shape });
    expect(relDiff(fps.flat(), exp('fingerprints').data)).toBeLessThan(1e-6);
    expect(new Set(fps.map((f) => f.join())).size).toBe(meta.unique_frames);
    const transitions = frameTransitions(fps, shape[0]!, shape[1]!);
    expect(transitions.length).toBe(meta.transitions);
    expect(new Set(transitions.map(([a, b]) => `${a.join()}|${b.join()}`)).size).toBe(meta.unique_transitions);
  });

  it('counts distinct frames and transitions per fold like compute_dataloader_statistics', () => {
    const base = exp('base_clips'); // (6, C=1, T=3, H=2, W=3)
    const [, c, t, h, w] = base.shape as [number, number, number, number, number];
    const clip = (i: number) => btwhc(base.data.subarray(i * c * t * h * w, (i + 1) * c * t * h * w), [1, c, t, h, w]);
    const loader = (passes: number[][][]) => {
      let pass = 0;
      return {
        *[Symbol.iterator](): Iterator<SessionBatch> {
          for (const ids of passes[pass++ % passes.length]!) {
            const data = new Float32Array(ids.length * t * h * w * c);
            ids.forEach((id, k) => data.set(clip(id), k * t * h * w * c));
            yield { session: 's', inputs: tf.tensor5d(data, [ids.length, t, h, w, c]), targets: tf.zeros([ids.length, t, 1]) };
          }
        },
      };
    };
    const loaders = Object.fromEntries(
      Object.entries(meta.layout).map(([fold, sessions]) => [
        fold,
        Object.fromEntries(Object.entries(sessions).map(([s, p]) => [s, loader(p)])),
      ]),
    );
    const before = tf.memory().numTensors;
    expect(snakeStats(computeDataloaderStatistics(loaders, { nAugmentationIterations: 4 }))).toEqual(meta.statistics);
    expect(tf.memory().numTensors).toBe(before);
    expect(snakeStats(emptyDatasetStatistics())).toEqual(meta.empty);
  });

  it('gives OpenRetina’s counts for the validation and test folds of multipleMoviesDataloaders', () => {
    const train = exp('movie_train');
    const test = exp('movie_test');
    const movie = (a: { data: Float64Array; shape: number[] }) => movieFromCTHW(a.data, a.shape);
    const sessions = ['s1', 's2'];
    const responses = Object.fromEntries(
      sessions.map((s) => {
        const r = exp(`responses_${s}`);
        const rt = exp(`test_responses_${s}`);
        return [s, createResponseSplit({ train: responsesFromNT(r.data, r.shape), test: responsesFromNT(rt.data, rt.shape) })];
      }),
    );
    const movies = Object.fromEntries(sessions.map((s) => [s, createMovieSplit({ train: movie(train), test: movie(test) })]));
    const o = meta.loader_options;
    const { train: _train, ...folds } = multipleMoviesDataloaders(responses, movies, {
      trainChunkSize: o.train_chunk_size,
      batchSize: o.batch_size,
      seed: o.seed,
      clipLength: o.clip_length,
      numValClips: o.num_val_clips,
    });
    const before = tf.memory().numTensors;
    expect(snakeStats(computeDataloaderStatistics(folds))).toEqual(meta.loader_statistics);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('HDF5 helpers (OpenRetina utils/h5_handling.py)', () => {
  const file = `${P}h5/sample.h5`;

  it('load_dataset_from_h5: one dataset by path, a clear error for a missing one', async () => {
    const values = json<Record<string, unknown>>('h5/load_dataset_from_h5.json');
    const plain = (a: NdArray): unknown => {
      const flat = Array.from(a.data as ArrayLike<number | bigint>, Number);
      if (a.shape.length === 0) return flat[0];
      if (a.shape.length === 1) return flat;
      const cols = a.shape[1]!;
      return Array.from({ length: a.shape[0]! }, (_, i) => flat.slice(i * cols, (i + 1) * cols));
    };
    for (const path of ['f8', '/session/traces', 'session/nested/deep', 'i8', 'count'])
      expect(plain(await loadDatasetFromH5(file, path)), path).toEqual(values[path]);
    expect((plain(await loadDatasetFromH5(file, 'flags')) as number[]).map(Boolean)).toEqual(values.flags);
    expect(values.missing).toMatch(/not found/);
    await expect(loadDatasetFromH5(file, 'missing')).rejects.toThrow(/sample\.h5: no dataset "missing"/);
  });

  it('h5_to_folders: the same folders, .npy files and attribute JSON (byte for byte, except variable-length strings)', async () => {
    const out = join(tmp, 'folders');
    const written = await h5ToFolders(file, out);
    const tree: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        const isDir = statSync(p).isDirectory();
        tree.push(relative(out, p) + (isDir ? '/' : ''));
        if (isDir) walk(p);
      }
    };
    walk(out);
    expect(tree.sort()).toEqual(json<string[]>('h5/folders.json'));
    expect(written.length).toBe(tree.filter((p) => !p.endsWith('/')).length);
    for (const name of tree.filter((p) => !p.endsWith('/'))) {
      const ours = readFileSync(join(out, name));
      if (name === 'eye.npy') {
        // OpenRetina's is a pickled object array (h5py reads variable-length strings as objects); ours is |S4 bytes
        expect(ours.toString('latin1')).toMatch(/'descr': '\|S4'.*\n*left$/s);
        continue;
      }
      expect(ours, name).toEqual(readFileSync(`${P}h5/folders/${name}`));
    }
  });

  it('print_h5_structure: the same structure (returned, not printed) and a text rendering', async () => {
    const structure = await h5Structure(file);
    expect(structure).toEqual(json('h5/structure.json'));
    const text = formatH5Structure(structure);
    expect(text).toContain('session/\n  @big = 10000000000000000');
    expect(text).toContain('    deep: h5.Dataset(shape=(2, 3)), float64');
    expect(text.split('\n')[0]).toBe('@title = "tiny"');
  });
});
