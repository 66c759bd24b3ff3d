import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';
import { describeIssues, parseConfig } from '@openretina/models';
import { optimizerConfigSchema, schedulerConfigSchema } from '@openretina/trainer';
import { readerFor } from '../readers/registry.js';
import { trainingCallbacksSchema } from './sections/callbacks.js';
import { dataloaderSchema } from './sections/dataloader.js';
import { evaluationSchema } from './sections/evaluation.js';
import { loggersSchema } from './sections/loggers.js';
import { matmulPrecisionSchema } from './sections/matmul-precision.js';
import { coreReadoutModelSchema, targetModelSchema } from './sections/model.js';
import { pathsSchema } from './sections/paths.js';
import { qualityChecksSchema } from './sections/quality-checks.js';
import { trainerSchema } from './sections/trainer.js';
import type { ConfigTree } from './tree.js';

/**
 * An experiment (the job config Hydra hands to OpenRetina's train script), validated to the leaves. `data_io` is
 * validated by the reader its `stimuli._target_` names and `model` by its kind (a core-readout section, or a class
 * with its own `_target_`); both are checked before this schema runs and typed loosely here.
 */
export const experimentSchema = z
  .object({
    exp_name: z.string().min(1),
    seed: z.number().int().nullable(),
    check_stimuli_responses_match: z.boolean().optional(),
    only_train_readout: z.boolean().optional(),
    /** The validation metric a hyper-parameter search optimises; its best-epoch value is reported. */
    objective_target: z.string().nullable().optional(),
    paths: pathsSchema,
    data_io: z.record(z.string(), z.unknown()),
    quality_checks: qualityChecksSchema.nullable().optional(),
    dataloader: dataloaderSchema,
    model: z.record(z.string(), z.unknown()),
    optimizer: optimizerConfigSchema.nullable().optional(),
    lr_scheduler: schedulerConfigSchema.nullable().optional(),
    training_callbacks: trainingCallbacksSchema.nullable().optional(),
    logger: loggersSchema.nullable().optional(),
    trainer: trainerSchema,
    evaluation: evaluationSchema.optional(),
    matmul_precision: matmulPrecisionSchema.optional(),
  })
  .strict();

export type ExperimentConfig = z.output<typeof experimentSchema>;

/**
 * Validates a resolved experiment config; a `ConfigError` lists every problem with its key path (unknown keys
 * with the accepted ones, unknown `_target_`s with the registered ones).
 */
export function validateExperiment(config: ConfigTree): ExperimentConfig {
  const problems: string[] = [];
  const collect = (schema: z.ZodType, value: unknown, prefix: string) => {
    const r = schema.safeParse(value);
    if (!r.success) problems.push(...describeIssues(schema, value, r.error.issues, prefix));
  };
  collect(experimentSchema, config, '');
  if (config.data_io && typeof config.data_io === 'object') {
    try {
      collect(readerFor(config.data_io).schema, config.data_io, 'data_io');
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e.message);
    }
  }
  const model = config.model;
  if (model && typeof model === 'object' && !Array.isArray(model)) {
    collect('_target_' in model ? targetModelSchema : coreReadoutModelSchema, model, 'model');
  }
  if (problems.length) throw new ConfigError(`Invalid config:\n  ${problems.join('\n  ')}`, { details: { problems } });
  return parseConfig(experimentSchema, config);
}
