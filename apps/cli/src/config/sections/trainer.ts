// `trainer`: Lightning's Trainer arguments that the training loop follows (see ARCHITECTURE.md for each key).
import { z } from 'zod';
import { classTarget, hydraKeys, positiveInt } from './common.js';

export const trainerSchema = z
  .object({
    _target_: classTarget('lightning.Trainer', 'Trainer').optional(),
    ...hydraKeys,
    max_epochs: positiveInt,
    gradient_clip_val: z.number().positive().nullable().optional(),
    accumulate_grad_batches: positiveInt.optional(),
    /** float32 always; mixed precision is a permission to compute faster in 16 bits, never required. */
    precision: z.enum(['32-true', '32', '16-mixed', 'bf16-mixed']).or(z.literal(32)).optional(),
    /** The TF.js backends are deterministic: every value is met. */
    deterministic: z
      .union([z.boolean(), z.literal('warn')])
      .nullable()
      .optional(),
    // Lightning's limits (null: every batch), known without `+` (see TRAINER_NULL_DEFAULT_KEYS)
    limit_train_batches: z.number().positive().nullable().optional(),
    limit_val_batches: z.number().positive().nullable().optional(),
    /** The test evaluation uses every test batch: only null, Lightning's default. */
    limit_test_batches: z.null({ error: 'the test evaluation uses every test batch here (limit_test_batches: null)' }).optional(),
    /** Metrics are logged once per epoch here; the value only thins Lightning's per-step logging. */
    log_every_n_steps: positiveInt.optional(),
    /** Where Lightning writes when no logger/checkpoint path is given; here every output path is explicit. */
    default_root_dir: z.string().nullable().optional(),
    /** cpu: the TF.js CPU backend; auto: the best backend available (--backend overrides). */
    accelerator: z.enum(['auto', 'cpu']).optional(),
    devices: z.union([z.literal(1), z.literal('auto')]).optional(),
    /** Stops with an error when a loss or metric of an epoch is not finite. */
    detect_anomaly: z.boolean().optional(),
    /** This port's compute engine (not an OpenRetina key): auto (default), onnx or tfjs. */
    engine: z.enum(['auto', 'onnx', 'tfjs']).optional(),
  })
  .strict();
/**
 * Lightning Trainer arguments whose default is null (every batch): an override sets them without `+`, as in
 * OpenRetina's README (`trainer.limit_train_batches=10`), although the trainer presets do not spell them out.
 */
export const TRAINER_NULL_DEFAULT_KEYS = ['limit_train_batches', 'limit_val_batches', 'limit_test_batches'] as const;

export type TrainerConfig = z.output<typeof trainerSchema>;
