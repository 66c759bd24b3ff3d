// Goldin et al. 2022: natural images flashed to mouse or axolotl retinas, spike counts per image.
import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';
import { loadGoldin2022 } from '@openretina/data-io/node';
import { convert, dataInfoSchema, defineReader, functionTarget, testNamesOf } from './reader.js';

const specie = z.enum(['mouse', 'axolotl']);
/** The natural-scene recordings are the ones published with OpenRetina; that is what the loader reads. */
const stimType = z.literal('naturalscene', { error: 'only the natural-scene recordings ("naturalscene") are read by @openretina' });

const schema = z
  .object({
    stimuli: z
      .object({
        _target_: functionTarget('openretina.data_io.goldin_2022.stimuli.load_all_stimuli', 'goldin_2022'),
        ...convert,
        base_data_path: z.string(),
        stim_type: stimType,
        specie,
        normalize_stimuli: z.boolean(),
      })
      .strict(),
    responses: z
      .object({
        _target_: functionTarget('openretina.data_io.goldin_2022.responses.load_all_responses', 'goldin_2022'),
        ...convert,
        base_data_path: z.string(),
        stim_type: stimType,
        response_type: z.literal('binned', { error: 'only binned spike counts ("binned") are read by @openretina' }),
        specie,
        fr_normalization: z.number().positive(),
      })
      .strict(),
    data_info: dataInfoSchema,
  })
  .strict();

export const goldin2022Reader = defineReader(
  ['openretina.data_io.goldin_2022.stimuli.load_all_stimuli', 'goldin_2022'],
  schema,
  async (io, ctx) => {
    const { stimuli: s, responses: r } = io;
    if (s.base_data_path !== r.base_data_path || s.specie !== r.specie) {
      throw new ConfigError('data_io: stimuli and responses must name the same base_data_path and specie (one loader reads both here).');
    }
    const data = await loadGoldin2022(ctx.resolvePath(s.base_data_path), {
      resolve: ctx.download,
      specie: s.specie,
      normalizeStimuli: s.normalize_stimuli,
      frNormalization: r.fr_normalization,
    });
    return { movies: data.movies, responses: data.responses, testNames: testNamesOf(data.responses) };
  },
);
