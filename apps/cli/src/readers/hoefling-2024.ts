// Höfling et al. 2024: the stimulus pickle and the responses HDF5, quality-filtered as the config's
// filter_responses arguments say (OpenRetina interpolates them from the quality_checks section).
import { z } from 'zod';
import { loadHoefling2024 } from '@openretina/data-io/node';
import { convert, dataInfoSchema, defineReader, functionTarget, testNamesOf } from './reader.js';

/** `get_local_file_path(file_path, cache_folder)`: a local path or a URL downloaded into the cache folder. */
const localFile = z
  .object({
    _target_: functionTarget('openretina.utils.file_utils.get_local_file_path', 'local_file'),
    ...convert,
    file_path: z.string(),
    cache_folder: z.string(),
  })
  .strict();

/** OpenRetina's filter_responses arguments (the quality checks). */
export const hoeflingQualityFilter = {
  filter_cell_types: z.boolean(),
  cell_types_list: z.array(z.number().int()),
  chirp_qi: z.number(),
  d_qi: z.number(),
  qi_logic: z.enum(['and', 'or']),
  filter_counts: z.boolean(),
  count_threshold: z.number().int().nonnegative().optional(),
  classifier_confidence: z.number(),
  /** Reports how many neurons each step keeps. */
  verbose: z.boolean(),
};

const schema = z
  .object({
    stimuli: z
      .object({
        _target_: functionTarget('openretina.data_io.hoefling_2024.stimuli.movies_from_pickle', 'hoefling_2024'),
        ...convert,
        file_path: localFile,
      })
      .strict(),
    responses: z
      .object({
        _target_: functionTarget('openretina.data_io.hoefling_2024.responses.make_final_responses', 'hoefling_2024'),
        ...convert,
        response_type: z.literal('natural', { error: 'only the natural-movie responses ("natural") are read by @openretina' }),
        data_dict: z
          .object({
            _target_: functionTarget('openretina.data_io.hoefling_2024.responses.filter_responses', 'filter_responses'),
            ...convert,
            ...hoeflingQualityFilter,
            all_responses: z
              .object({
                _target_: functionTarget('openretina.utils.h5_handling.load_h5_into_dict', 'load_h5'),
                ...convert,
                file_path: localFile,
              })
              .strict(),
          })
          .strict(),
      })
      .strict(),
    data_info: dataInfoSchema,
  })
  .strict();

export const hoefling2024Reader = defineReader(
  ['openretina.data_io.hoefling_2024.stimuli.movies_from_pickle', 'hoefling_2024'],
  schema,
  async (io, ctx) => {
    const filter = io.responses.data_dict;
    const data = await loadHoefling2024({
      resolve: { ...ctx.download, cacheDir: io.stimuli.file_path.cache_folder },
      stimuliPath: ctx.resolvePath(io.stimuli.file_path.file_path),
      responsesPath: ctx.resolvePath(filter.all_responses.file_path.file_path),
      qualityChecks: {
        filterCellTypes: filter.filter_cell_types,
        cellTypesList: filter.cell_types_list,
        chirpQi: filter.chirp_qi,
        dQi: filter.d_qi,
        qiLogic: filter.qi_logic,
        filterCounts: filter.filter_counts,
        ...(filter.count_threshold === undefined ? {} : { countThreshold: filter.count_threshold }),
        classifierConfidence: filter.classifier_confidence,
        ...(filter.verbose ? { report: ctx.log } : {}),
      },
    });
    const movies = Object.fromEntries(Object.keys(data.responses).map((s) => [s, data.movies]));
    return { movies, responses: data.responses, testNames: testNamesOf(data.responses) };
  },
);
