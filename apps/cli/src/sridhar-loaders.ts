// OpenRetina's Sridhar 2025 loader functions (frame_movie_loader, white_noise_loader) as `dataloader` sections:
// the loaders of @openretina/data-io's loadSridhar2025, with the responses and placeholder movies they were cut from.
import { ConfigError, DataError, type ResponseSplit } from '@openretina/contracts';
import type { DataloaderDict } from '@openretina/data-io';
import { loadSridhar2025, type Sridhar2025Options } from '@openretina/data-io/node';
import type { ExperimentConfig } from './config/index.js';
import { resolveDataDir } from './data-path.js';
import { cliDownloadOptions } from './download-progress.js';
import type { ExperimentData } from './readers/reader.js';
import { testNamesOf } from './readers/reader.js';

const FRAME_MOVIE = ['openretina.data_io.sridhar_2025.dataloaders.frame_movie_loader', 'frame_movie_loader'];
const WHITE_NOISE = ['openretina.data_io.sridhar_2025.dataloaders.white_noise_loader', 'white_noise_loader'];

/** Whether the dataloader section names one of OpenRetina's Sridhar 2025 loader functions. */
export function isSridharDataloader(cfg: ExperimentConfig): boolean {
  return FRAME_MOVIE.includes(cfg.dataloader._target_) || WHITE_NOISE.includes(cfg.dataloader._target_);
}

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '???')) as Partial<T>;

/** The dataloader section's keys (OpenRetina's loader arguments) as {@link loadSridhar2025} options. */
export function sridharLoaderOptions(cfg: ExperimentConfig, seed: number | null): Sridhar2025Options {
  const d = cfg.dataloader as Record<string, unknown> & { _target_: string };
  const wn = WHITE_NOISE.includes(d._target_);
  for (const key of ['cell_index', 'retina_index'] as const) {
    if (d[key] === '???') throw new ConfigError(`dataloader.${key} is ??? : set it (e.g. dataloader.${key}=...).`);
  }
  if (d.temporal_dilation !== undefined && typeof d.temporal_dilation !== 'number')
    throw new ConfigError('dataloader.temporal_dilation: one dilation for the first layer is supported, not a list.');
  return defined({
    stimulus: wn ? 'white_noise' : 'natural_movie',
    files: d.files as Record<string, string>,
    numOfFrames: d.num_of_frames as number | number[] | undefined,
    numOfLayers: d.num_of_layers as number | undefined,
    temporalDilation: d.temporal_dilation as number | undefined,
    hiddenTemporalDilation: d.hidden_temporal_dilation as number | number[] | undefined,
    timeChunkSize: d.time_chunk_size as number | undefined,
    batchSize: d.batch_size as number | undefined,
    seed: (d.seed as number | null | undefined) ?? null,
    trainFrac: d.train_frac as number | undefined,
    finalTraining: d.final_training as boolean | undefined,
    numOfTrialsToUse: d.num_of_trials_to_use as number | null | undefined,
    startUsingTrial: d.start_using_trial as number | undefined,
    retinaIndex: (d.retina_index as string | null | undefined) ?? undefined,
    cellIndex: (d.cell_index as number | null | undefined) ?? undefined,
    excludedCells: d.excluded_cells as Record<string, number[]> | undefined,
    stimulusSeed: (cfg.data_io as Record<string, unknown>).stimulus_seed as number | undefined,
    retinaSpecificCrops: d.retina_specific_crops as boolean | undefined,
    bigCrops: d.big_crops as Sridhar2025Options['bigCrops'],
    crop: d.crop as Sridhar2025Options['crop'],
    subsample: d.subsample as number | undefined,
    fixationFiles: d.fixation_files as Record<string, string> | undefined,
    imgDirName: d.img_dir_name as string | undefined,
    frameFile: d.frame_file as string | undefined,
    imgW: d.img_w as number | undefined,
    imgH: d.img_h as number | undefined,
    padding: d.padding as number | undefined,
    flipImgs: d.flip_imgs as boolean | undefined,
    shuffle: (d.shuffle as boolean | null | undefined) ?? undefined,
    // the natural-movie shuffling stream: the experiment's seed (OpenRetina's torch generator is not reproduced)
    ...(seed === null ? {} : { shuffleSeed: seed }),
    trainImagePath: d.train_image_path as Record<string, string> | undefined,
    testImagePath: d.test_image_path as Record<string, string> | undefined,
    useCache: d.use_cache as boolean | undefined,
    cacheMaxsize: d.cache_maxsize as number | undefined,
    extraFrame: d.extra_frame as number | undefined,
    chunkedSampling: d.chunked_sampling as boolean | undefined,
    getLocations: d.get_locations as boolean | undefined,
    staDir: d.sta_dir as string | undefined,
  }) as Sridhar2025Options;
}

/** What {@link sridharLoaders} returns: the loaders and the data they are cut from (responses of the loaded cells). */
export interface SridharLoaders {
  loaders: DataloaderDict;
  data: ExperimentData;
}

/**
 * The loaders of a Sridhar 2025 dataloader section (train, validation and the test fold per retina), and the
 * responses and placeholder movies of the cells they load, for the test evaluation.
 */
export async function sridharLoaders(cfg: ExperimentConfig): Promise<SridharLoaders> {
  const d = cfg.dataloader as { basepath?: string };
  if (typeof d.basepath !== 'string') throw new ConfigError('dataloader.basepath: the data folder is required.');
  const loaded = await loadSridhar2025(resolveDataDir(d.basepath), {
    ...sridharLoaderOptions(cfg, cfg.seed),
    resolve: { ...cliDownloadOptions(), cacheDir: cfg.paths.cache_dir },
  });
  if (Object.keys(loaded.responses).length === 0) throw new DataError(`No retina loaded from ${d.basepath}.`);
  // the test loaders' targets start after the frames the model needs first (and the white noise's extra frame)
  const skip = loaded.frameOverhead + ((cfg.dataloader as { extra_frame?: number }).extra_frame ?? 0);
  const responses = Object.fromEntries(Object.entries(loaded.responses).map(([r, split]) => [r, testFromFrame(split, skip)]));
  return {
    loaders: loaded.dataloaders as unknown as DataloaderDict,
    data: { movies: loaded.movies, responses, testNames: testNamesOf(responses) },
  };
}

/**
 * The responses with every test response (averaged `[T, N]` and by trial `[trials, T, N]`) from frame `skip` on, so
 * that they line up with the test loader's targets, which start there (the evaluation aligns from frame 0).
 */
function testFromFrame(split: ResponseSplit, skip: number): ResponseSplit {
  const test = Object.fromEntries(
    Object.entries(split.test).map(([name, r]) => {
      const [t, n] = r.shape;
      return [name, { data: r.data.slice(skip * n), shape: [Math.max(0, t - skip), n] as [number, number] }];
    }),
  );
  const byTrial = split.testByTrial
    ? Object.fromEntries(
        Object.entries(split.testByTrial).map(([name, r]) => {
          const [k, t, n] = r.shape;
          const kept = Math.max(0, t - skip);
          const data = new Float32Array(k * kept * n);
          for (let i = 0; i < k; i++) data.set(r.data.subarray((i * t + skip) * n, (i + 1) * t * n), i * kept * n);
          return [name, { data, shape: [k, kept, n] as [number, number, number] }];
        }),
      )
    : undefined;
  return { ...split, test, ...(byTrial ? { testByTrial: byTrial } : {}) };
}
