// `evaluation`: what `openretina eval` evaluates and where it writes (OpenRetina's eval settings).
import { z } from 'zod';

export const evaluationSchema = z
  .object({
    /** The model to evaluate (--checkpoint overrides). */
    model_path: z
      .union([z.string(), z.literal('???')])
      .nullable()
      .optional(),
    /** Name of the model in the summary (default: model_path). */
    model_tag: z.string().nullable().optional(),
    /** `test` (every test stimulus) or the name of one test stimulus. */
    data_split: z.string().optional(),
    add_responses_to_model_results: z
      .literal(false, { error: 'adding the responses to the per-neuron table is not supported (add_responses_to_model_results: false)' })
      .optional(),
    /** Per-neuron results as CSV (one file per test stimulus when there are several). */
    model_results_path: z.string().nullable().optional(),
    /** Summary statistics as JSON. */
    summary_results_path: z.string().nullable().optional(),
    var_ratio_cutoff: z.number().min(0).optional(),
    /** OpenRetina counts unique frames and transitions of every loader (frame fingerprints); not ported. */
    compute_dataset_statistics: z
      .literal(false, {
        error:
          'the dataset statistics (unique frames and transitions per split) are not computed by @openretina; set evaluation.compute_dataset_statistics=false',
      })
      .optional(),
  })
  .strict();
export type EvaluationConfig = z.output<typeof evaluationSchema>;
