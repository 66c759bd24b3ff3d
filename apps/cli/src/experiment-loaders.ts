// The loaders of an experiment and the data they are cut from: the dataloader section's function applied to what
// the data_io section read, or (Sridhar 2025) OpenRetina's loader functions that read the data themselves.
import type { DataloaderDict } from '@openretina/data-io';
import type { ExperimentConfig } from './config/index.js';
import { makeDataloaders } from './dataloaders.js';
import type { ExperimentData } from './readers/reader.js';
import { isSridharDataloader, sridharLoaders } from './sridhar-loaders.js';

/** Train, validation and test loaders, and the responses of the neurons they load (for the test evaluation). */
export async function experimentLoaders(
  cfg: ExperimentConfig,
  read: ExperimentData,
  warn?: (message: string) => void,
): Promise<{ loaders: DataloaderDict; data: ExperimentData }> {
  if (isSridharDataloader(cfg)) return sridharLoaders(cfg);
  return { loaders: makeDataloaders(cfg, read, warn), data: read };
}
