// Sridhar et al. 2025 (natural movies and white noise): validated here; reading it in the CLI is not wired yet.
import { z } from 'zod';
import { UnsupportedError } from '@openretina/contracts';
import { defineReader, functionTarget } from './reader.js';

const sessionFiles = z.record(z.string(), z.string());

const schema = z
  .object({
    sessions: z.array(z.string()),
    input_channels: z.number().int().positive(),
    time_bins: z.number().int().positive(),
    stimulus_height: z.number().int().positive(),
    stimulus_width: z.number().int().positive(),
    stimulus_seed: z.number().int(),
    flip_sta: z.boolean(),
    response_files: sessionFiles,
    excluded_cells: z.record(z.string(), z.array(z.number().int().nonnegative())),
    stimuli: z
      .object({
        _target_: functionTarget('openretina.data_io.sridhar_2025.stimuli.build_movies_from_responses', 'sridhar_2025'),
        _convert_: z.enum(['none', 'partial', 'object', 'all']).optional(),
        base_path: z.string(),
        response_files: sessionFiles,
        channels: z.number().int().positive(),
        height: z.number().int().positive(),
        width: z.number().int().positive(),
        stimulus_seed: z.number().int(),
        stim_id_prefix: z.string(),
      })
      .strict(),
    responses: z
      .object({
        _target_: functionTarget('openretina.data_io.sridhar_2025.responses.response_splits_from_pickles', 'sridhar_2025'),
        _convert_: z.enum(['none', 'partial', 'object', 'all']).optional(),
        base_path: z.string(),
        files: sessionFiles,
        excluded_cells: z.record(z.string(), z.array(z.number().int().nonnegative())),
        stimulus_seed: z.number().int(),
      })
      .strict(),
    // OpenRetina's sridhar configs write rates as text ("85Hz"); they are descriptions here too.
    data_info: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
  })
  .strict();

export const sridhar2025Reader = defineReader(
  ['openretina.data_io.sridhar_2025.stimuli.build_movies_from_responses', 'sridhar_2025'],
  schema,
  async () => {
    throw new UnsupportedError(
      'data_io: the Sridhar 2025 data (build_movies_from_responses / response_splits_from_pickles) cannot be trained on by `openretina train` yet: @openretina/data-io has its loaders (loadSridhar2025), but the CLI does not wire them to the frame_movie_loader / white_noise_loader dataloaders.',
    );
  },
);
