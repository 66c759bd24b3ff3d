// The generic format (OpenRetina's h5_dataset_reader): stimuli/<name>.npy movies and one <session>.h5 per session.
import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, DataError } from '@openretina/contracts';
import { readHdf5Dataset } from '@openretina/data-io/node';
import { convert, dataInfoSchema, defineReader, functionTarget, testNamesOf } from './reader.js';

const positive = z.number().int().positive();

const schema = z
  .object({
    color_channels: positive,
    video_height: positive,
    video_width: positive,
    test_names: z.array(z.string()),
    stimuli: z
      .object({
        _target_: functionTarget('openretina.data_io.h5_dataset_reader.load_stimuli', 'hdf5'),
        ...convert,
        base_data_path: z.string(),
        norm_mean: z.number(),
        norm_std: z.number(),
        test_names: z.array(z.string()),
        stimulus_size: z.tuple([positive, positive, positive]),
      })
      .strict(),
    responses: z
      .object({
        _target_: functionTarget('openretina.data_io.h5_dataset_reader.load_responses', 'hdf5'),
        ...convert,
        base_data_path: z.string(),
        test_names: z.array(z.string()),
      })
      .strict(),
    data_info: dataInfoSchema,
    /**
     * Ours (OpenRetina ignores it): above this size on disk the train movies and responses are read per clip on
     * demand instead of all at load (data-io's `lazyThresholdBytes`; default 512 MiB, 0 = always).
     */
    lazy_threshold_bytes: z.number().int().nonnegative().optional(),
  })
  .strict();

export const hdf5Reader = defineReader(['openretina.data_io.h5_dataset_reader.load_stimuli', 'hdf5'], schema, async (io, ctx) => {
  const { stimuli, responses } = io;
  if (stimuli.base_data_path !== responses.base_data_path || stimuli.test_names.join() !== responses.test_names.join()) {
    throw new ConfigError('data_io: stimuli and responses must read the same folder (base_data_path) and test_names.');
  }
  const dir = ctx.resolvePath(stimuli.base_data_path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(
      `paths.data_dir: ${dir} is not a directory (expected a dataset in the generic HDF5 format: stimuli/<name>.npy and <session>.h5 files).`,
    );
  }
  const data = await readHdf5Dataset(dir, {
    testNames: stimuli.test_names,
    stimulusSize: stimuli.stimulus_size,
    normMean: stimuli.norm_mean,
    normStd: stimuli.norm_std,
    warn: ctx.warn,
    ...(io.lazy_threshold_bytes === undefined ? {} : { lazyThresholdBytes: io.lazy_threshold_bytes }),
  });
  if (data.lazy) ctx.log(`data: ${dir} is read per clip on demand (larger than data_io.lazy_threshold_bytes)`);
  return { movies: data.movies, responses: data.responses, testNames: testNamesOf(data.responses), close: () => data.close() };
});
