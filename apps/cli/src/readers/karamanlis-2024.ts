// Karamanlis et al. 2024: fixation movies rendered from the .mat files, spikes per frame.
import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';
import { loadKaramanlis2024 } from '@openretina/data-io/node';
import { convert, dataInfoSchema, defineReader, functionTarget, testNamesOf } from './reader.js';

const stimType = z.enum(['fixationmovie', 'frozencheckerflicker', 'gratingflicker', 'imagesequence']);
const specie = z.enum(['mouse', 'marmoset']);
const positive = z.number().int().positive();

const schema = z
  .object({
    video_height: positive,
    video_width: positive,
    stimuli: z
      .object({
        _target_: functionTarget('openretina.data_io.karamanlis_2024.stimuli.load_all_stimuli', 'karamanlis_2024'),
        ...convert,
        base_data_path: z.string(),
        stim_type: stimType,
        specie,
        normalize_stimuli: z.boolean(),
        downsampled_size: z.tuple([positive, positive]),
      })
      .strict(),
    responses: z
      .object({
        _target_: functionTarget('openretina.data_io.karamanlis_2024.responses.load_all_responses', 'karamanlis_2024'),
        ...convert,
        base_data_path: z.string(),
        stim_type: stimType,
        specie,
        fr_normalization: z.number().positive(),
      })
      .strict(),
    data_info: dataInfoSchema,
  })
  .strict();

export const karamanlis2024Reader = defineReader(
  ['openretina.data_io.karamanlis_2024.stimuli.load_all_stimuli', 'karamanlis_2024'],
  schema,
  async (io, ctx) => {
    const { stimuli: s, responses: r } = io;
    if (s.base_data_path !== r.base_data_path || s.stim_type !== r.stim_type || s.specie !== r.specie) {
      throw new ConfigError(
        'data_io: stimuli and responses must name the same base_data_path, stim_type and specie (one loader reads both here).',
      );
    }
    const data = await loadKaramanlis2024(ctx.resolvePath(s.base_data_path), {
      resolve: ctx.download,
      stimType: s.stim_type,
      specie: s.specie,
      normalizeStimuli: s.normalize_stimuli,
      downsampledSize: s.downsampled_size,
      frNormalization: r.fr_normalization,
    });
    return { movies: data.movies, responses: data.responses, testNames: testNamesOf(data.responses) };
  },
);
