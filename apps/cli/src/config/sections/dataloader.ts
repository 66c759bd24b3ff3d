// `dataloader`: which loader function cuts the data into clips and batches, and its arguments.
import { z } from 'zod';
import { classTarget, hydraKeys, nonNegativeInt, positiveInt } from './common.js';

const multipleMovies = z
  .object({
    _target_: classTarget('openretina.data_io.base_dataloader.multiple_movies_dataloaders', 'multiple_movies_dataloaders'),
    ...hydraKeys,
    batch_size: positiveInt,
    train_chunk_size: positiveInt,
    clip_length: positiveInt,
    num_val_clips: positiveInt.optional(),
    val_clip_indices: z.array(nonNegativeInt).nullable().optional(),
    allow_over_boundaries: z.boolean().optional(),
    /** Seed of the train/validation clip split and the shuffling (OpenRetina's default 42; else the experiment's seed here). */
    seed: z.number().int().optional(),
  })
  .strict();

const hoefling = z
  .object({
    _target_: classTarget('openretina.data_io.hoefling_2024.dataloaders.natmov_dataloaders_v2', 'natmov_dataloaders_v2'),
    ...hydraKeys,
    batch_size: positiveInt,
    train_chunk_size: positiveInt,
    clip_length: positiveInt,
    num_clips: positiveInt.optional(),
    allow_over_boundaries: z.boolean().optional(),
    validation_clip_indices: z.array(nonNegativeInt),
  })
  .strict();

const sessionFiles = z.record(z.string(), z.string());
const crops = z.record(z.string(), z.union([nonNegativeInt, z.tuple([nonNegativeInt, nonNegativeInt, nonNegativeInt, nonNegativeInt])]));
const intOrList = z.union([positiveInt, z.array(positiveInt)]);
/** Keys shared by the two Sridhar 2025 loaders. */
const sridharCommon = {
  ...hydraKeys,
  basepath: z.string(),
  files: sessionFiles,
  big_crops: crops,
  batch_size: positiveInt,
  seed: z.number().int().nullable(),
  train_frac: z.number().gt(0).lte(1),
  subsample: positiveInt,
  crop: z.union([nonNegativeInt, z.tuple([nonNegativeInt, nonNegativeInt, nonNegativeInt, nonNegativeInt])]),
  cell_index: z.union([nonNegativeInt, z.literal('???')]).nullable(),
  retina_index: z.union([z.string(), z.literal('???')]).nullable(),
  num_of_trials_to_use: positiveInt.nullable(),
  start_using_trial: nonNegativeInt,
  num_of_frames: intOrList,
  temporal_dilation: intOrList,
  hidden_temporal_dilation: intOrList,
  device: z.string(),
  time_chunk_size: positiveInt,
  num_of_layers: positiveInt,
  excluded_cells: z.record(z.string(), z.array(nonNegativeInt)),
  retina_specific_crops: z.boolean(),
  hard_coded: z.null(),
  get_locations: z.boolean(),
  sta_dir: z.string(),
};

const frameMovie = z
  .object({
    _target_: classTarget('openretina.data_io.sridhar_2025.dataloaders.frame_movie_loader', 'frame_movie_loader'),
    ...sridharCommon,
    fixation_files: sessionFiles,
    frame_file: z.string(),
    img_dir_name: z.string(),
    full_img_h: positiveInt,
    full_img_w: positiveInt,
    img_h: positiveInt,
    img_w: positiveInt,
    padding: nonNegativeInt,
    final_training: z.boolean(),
    flip_imgs: z.boolean(),
    shuffle: z.boolean().nullable(),
  })
  .partial()
  .required({ _target_: true, basepath: true, files: true })
  .strict();

const whiteNoise = z
  .object({
    _target_: classTarget('openretina.data_io.sridhar_2025.dataloaders.white_noise_loader', 'white_noise_loader'),
    ...sridharCommon,
    train_image_path: sessionFiles,
    test_image_path: sessionFiles,
    use_cache: z.boolean(),
    cache_maxsize: positiveInt,
    num_of_hidden_frames: positiveInt.optional(),
    extra_frame: nonNegativeInt,
    chunked_sampling: z.boolean(),
  })
  .partial()
  .required({ _target_: true, basepath: true, files: true })
  .strict();

export const dataloaderSchema = z.discriminatedUnion('_target_', [multipleMovies, hoefling, frameMovie, whiteNoise]);
export type DataloaderConfig = z.output<typeof dataloaderSchema>;
