import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';
import type { ConfigTree } from './tree.js';

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

/** The sections our trainer reads, with OpenRetina's key names; other keys of these sections are refused. */
const trainerSchema = z
  .object({
    max_epochs: positiveInt,
    gradient_clip_val: z.number().positive().nullable().optional(),
    accumulate_grad_batches: positiveInt.optional(),
    precision: z.string().optional(),
    deterministic: z.union([z.boolean(), z.string()]).optional(),
    limit_train_batches: z.number().positive().optional(),
    limit_val_batches: z.number().positive().optional(),
    log_every_n_steps: positiveInt.optional(),
    /** This port's compute engine (not an OpenRetina key): auto (default), onnx or tfjs. */
    engine: z.enum(['auto', 'onnx', 'tfjs']).optional(),
  })
  .strict();

const dataloaderSchema = z
  .object({
    batch_size: positiveInt,
    train_chunk_size: positiveInt,
    clip_length: positiveInt,
    num_val_clips: positiveInt.optional(),
    allow_over_boundaries: z.boolean().optional(),
    validation_clip_indices: z.array(z.number().int().nonnegative()).optional(),
  })
  .strict();

const earlyStoppingSchema = z
  .object({
    monitor: z.string(),
    mode: z.enum(['min', 'max']),
    min_delta: nonNegative,
    patience: z.number().int().nonnegative(),
    strict: z.boolean().optional(),
    check_finite: z.boolean().optional(),
    verbose: z.boolean().optional(),
  })
  .strict();

const modelSchema = z
  .object({
    in_shape: z.array(z.number().int().positive()).length(4),
    hidden_channels: z.array(positiveInt).nullable().optional(),
    n_neurons_dict: z.unknown().optional(),
    learning_rate: z.number().positive().optional(),
    core: z.record(z.string(), z.unknown()),
    readout: z.record(z.string(), z.unknown()),
    loss: z.record(z.string(), z.unknown()).optional(),
    evaluation_loss: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const experimentSchema = z
  .object({
    exp_name: z.string().min(1),
    seed: z.number().int(),
    check_stimuli_responses_match: z.boolean().optional(),
    only_train_readout: z.boolean().optional(),
    paths: z.object({ data_dir: z.string(), output_dir: z.string(), load_model_path: z.string().nullable().optional() }).passthrough(),
    data_io: z.object({ reader: z.string() }).passthrough(),
    quality_checks: z.record(z.string(), z.unknown()).optional(),
    dataloader: dataloaderSchema,
    model: modelSchema,
    optimizer: z.object({ _target_: z.string(), lr: z.number().positive() }).passthrough().optional(),
    lr_scheduler: z.object({ _target_: z.string() }).passthrough().nullable().optional(),
    training_callbacks: z
      .object({
        early_stopping: earlyStoppingSchema.optional(),
        model_checkpoint: z.record(z.string(), z.unknown()).optional(),
        lr_monitor: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional(),
    logger: z.record(z.string(), z.unknown()).optional(),
    trainer: trainerSchema,
    evaluation: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;

/** Validates a composed, resolved config; the error lists every problem with its key path. */
export function validateExperiment(config: ConfigTree): ExperimentConfig {
  const result = experimentSchema.safeParse(config);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const path = i.path.join('.') || '(top level)';
    if (i.code === 'unrecognized_keys') return `${path ? `${path}: ` : ''}unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return `${path}: ${i.message}`;
  });
  throw new ConfigError(`Invalid config:\n  ${problems.join('\n  ')}`, { details: { problems } });
}
