import type { MovieSplit, ResponseSplit } from '@openretina/contracts';
import { DataError } from '@openretina/contracts';
import { HOEFLING_2024 } from '../../datasets/hoefling-2024/constants.js';
import { hoeflingMoviesFromPickle } from '../../datasets/hoefling-2024/movies.js';
import { type HoeflingResponseOptions, hoeflingResponsesFromFields } from '../../datasets/hoefling-2024/responses.js';
import type { NdTree } from '../../ndarray.js';
import { type ResolveOptions, resolveDataPath } from '../cache/resolve-data-path.js';
import { loadH5IntoDict } from '../hdf5.js';
import { readPickleFile, singleFile } from './dataset-files.js';

/** Options of {@link loadHoefling2024}. */
export interface Hoefling2024Options extends HoeflingResponseOptions {
  /** Stimulus pickle, zip or URL (default the low-res HuggingFace file). */
  stimuliPath?: string;
  /** Responses HDF5, zip or URL (default the full HuggingFace file). */
  responsesPath?: string;
  resolve?: ResolveOptions;
}

/**
 * Höfling et al. 2024: the stimulus pickle (`train` `(2, 16200, H, W)`, `test`, `random_sequences`, `movie_stats`) and
 * the responses HDF5 (one group per field), quality-filtered and upsampled as in OpenRetina's config. Use
 * `hoefling2024Dataloaders` on the result.
 */
export async function loadHoefling2024(
  options: Hoefling2024Options = {},
): Promise<{ movies: MovieSplit; responses: Record<string, ResponseSplit> }> {
  const stimPath = await singleFile(
    await resolveDataPath(options.stimuliPath ?? HOEFLING_2024.lowResStimuli, options.resolve),
    ['.pkl', '.pickle', '.zip'],
    'stimulus pickle',
  );
  const movies = hoeflingMoviesFromPickle(await readPickleFile(stimPath), stimPath);
  const respPath = await singleFile(
    await resolveDataPath(options.responsesPath ?? HOEFLING_2024.responses, options.resolve),
    ['.h5', '.hdf5'],
    'responses HDF5',
  );
  if (respPath.endsWith('.zip'))
    throw new DataError(`${respPath}: extract the responses zip first (or pass its URL to download and extract it).`);
  const tree = await loadH5IntoDict(respPath);
  const fields: Record<string, NdTree> = {};
  for (const [k, v] of Object.entries(tree)) if (typeof v === 'object' && v !== null && !('shape' in v)) fields[k] = v as NdTree;
  return { movies, responses: hoeflingResponsesFromFields(fields, options) };
}
