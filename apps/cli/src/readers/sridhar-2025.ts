// Sridhar et al. 2025 (natural movies and white noise): OpenRetina's build_movies_from_responses and
// response_splits_from_pickles (the containers the data info comes from; the loaders come from the dataloader section).
import { z } from 'zod';
import { buildSridharMoviesFromResponses, loadSridhar2025Responses } from '@openretina/data-io/node';
import { defineReader, functionTarget, testNamesOf } from './reader.js';

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
  async (io, ctx) => {
    const st = io.stimuli;
    const movies = await buildSridharMoviesFromResponses(ctx.resolvePath(st.base_path), st.response_files, {
      channels: st.channels,
      height: st.height,
      width: st.width,
      stimulusSeed: st.stimulus_seed,
      stimIdPrefix: st.stim_id_prefix,
      resolve: ctx.download,
    });
    const r = io.responses;
    const responses = await loadSridhar2025Responses(ctx.resolvePath(r.base_path), {
      files: r.files,
      excludedCells: r.excluded_cells,
      stimulusSeed: r.stimulus_seed,
      resolve: ctx.download,
    });
    return { movies, responses, testNames: testNamesOf(responses) };
  },
);
