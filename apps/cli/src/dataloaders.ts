// The loaders of an experiment: the dataloader section's `_target_` picks OpenRetina's loader function.
import { UnsupportedError } from '@openretina/contracts';
import { hoefling2024Dataloaders, multipleMoviesDataloaders, type DataloaderDict } from '@openretina/data-io';
import type { ExperimentConfig } from './config/index.js';
import type { ExperimentData } from './readers/reader.js';

/** Train, validation and one fold per test stimulus, as the dataloader section says. */
export function makeDataloaders(cfg: ExperimentConfig, data: ExperimentData, warn?: (message: string) => void): DataloaderDict {
  const d = cfg.dataloader;
  switch (d._target_) {
    case 'openretina.data_io.base_dataloader.multiple_movies_dataloaders':
    case 'multiple_movies_dataloaders':
      return multipleMoviesDataloaders(data.responses, data.movies, {
        batchSize: d.batch_size,
        trainChunkSize: d.train_chunk_size,
        clipLength: d.clip_length,
        seed: d.seed ?? cfg.seed ?? 42,
        ...(d.allow_over_boundaries === undefined ? {} : { allowOverBoundaries: d.allow_over_boundaries }),
        ...(d.num_val_clips === undefined ? {} : { numValClips: d.num_val_clips }),
        ...(d.val_clip_indices ? { valClipIndices: d.val_clip_indices } : {}),
        ...(warn ? { warn } : {}),
      });
    case 'openretina.data_io.hoefling_2024.dataloaders.natmov_dataloaders_v2':
    case 'natmov_dataloaders_v2': {
      const movies = Object.values(data.movies)[0]!;
      return hoefling2024Dataloaders(data.responses, movies, {
        batchSize: d.batch_size,
        trainChunkSize: d.train_chunk_size,
        clipLength: d.clip_length,
        seed: cfg.seed ?? 42,
        validationClipIndices: d.validation_clip_indices,
        ...(d.num_clips === undefined ? {} : { numClips: d.num_clips }),
        ...(d.allow_over_boundaries === undefined ? {} : { allowOverBoundaries: d.allow_over_boundaries }),
      });
    }
    default:
      throw new UnsupportedError(
        `dataloader._target_ ${d._target_}: this loader reads its data itself (experimentLoaders); it is not a function of the data_io section's movies and responses.`,
      );
  }
}
