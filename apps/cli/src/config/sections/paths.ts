// `paths`: where data, cache, logs and outputs are.
import { z } from 'zod';

export const pathsSchema = z
  .object({
    /** Downloads go here (OPENRETINA_CACHE_DIRECTORY). */
    cache_dir: z.string(),
    data_dir: z.union([z.string(), z.literal('???')]),
    /** Parent of the run folders (through hydra.run.dir). */
    log_dir: z.string().optional(),
    /** The run folder (Hydra's runtime.output_dir unless set). */
    output_dir: z.string(),
    load_model_path: z.string().nullable().optional(),
    movies_path: z.string().optional(),
    responses_path: z.string().optional(),
  })
  .strict();
