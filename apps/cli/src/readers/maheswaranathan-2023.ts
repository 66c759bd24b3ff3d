// Maheswaranathan et al. 2023: salamander natural scenes / white noise, firing rates in 5, 10 or 20 ms bins.
import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';
import { loadMaheswaranathan2023 } from '@openretina/data-io/node';
import { convert, dataInfoSchema, defineReader, functionTarget, testNamesOf } from './reader.js';

const stimType = z.enum(['naturalscene', 'whitenoise']);

const schema = z
  .object({
    stimuli: z
      .object({
        _target_: functionTarget('openretina.data_io.maheswaranathan_2023.stimuli.load_all_stimuli', 'maheswaranathan_2023'),
        ...convert,
        base_data_path: z.string(),
        stim_type: stimType,
        normalize_stimuli: z.boolean(),
      })
      .strict(),
    responses: z
      .object({
        _target_: functionTarget('openretina.data_io.maheswaranathan_2023.responses.load_all_responses', 'maheswaranathan_2023'),
        ...convert,
        base_data_path: z.string(),
        stim_type: stimType,
        response_type: z.enum(['firing_rate_5ms', 'firing_rate_10ms', 'firing_rate_20ms']),
        fr_normalization: z.number().positive(),
      })
      .strict(),
    data_info: dataInfoSchema,
  })
  .strict();

export const maheswaranathan2023Reader = defineReader(
  ['openretina.data_io.maheswaranathan_2023.stimuli.load_all_stimuli', 'maheswaranathan_2023'],
  schema,
  async (io, ctx) => {
    const { stimuli: s, responses: r } = io;
    if (s.base_data_path !== r.base_data_path || s.stim_type !== r.stim_type) {
      throw new ConfigError('data_io: stimuli and responses must name the same base_data_path and stim_type (one loader reads both here).');
    }
    const data = await loadMaheswaranathan2023(ctx.resolvePath(s.base_data_path), {
      resolve: ctx.download,
      stimType: s.stim_type,
      responseType: r.response_type,
      normalizeStimuli: s.normalize_stimuli,
      frNormalization: r.fr_normalization,
    });
    return { movies: data.movies, responses: data.responses, testNames: testNamesOf(data.responses) };
  },
);
