// `quality_checks`: the Höfling 2024 neuron filter; data_io passes these values to filter_responses.
import { z } from 'zod';

export const qualityChecksSchema = z
  .object({
    filter_cell_types: z.boolean(),
    cell_types_list: z.array(z.number().int()),
    chirp_qi: z.number(),
    d_qi: z.number(),
    qi_logic: z.enum(['and', 'or']),
    filter_counts: z.boolean(),
    count_threshold: z.number().int().nonnegative().optional(),
    classifier_confidence: z.number(),
    verbose: z.boolean(),
  })
  .strict();
