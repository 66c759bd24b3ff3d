// `model`: a core-readout model (core, readout, losses, optimizer and scheduler inside, as OpenRetina's
// UnifiedCoreReadout takes them), or a model class named by its own `_target_`.
import { z } from 'zod';
import { coreSchema, lossSchema, modelSchema, readoutSchema } from '@openretina/models';
import { optimizerConfigSchema, schedulerConfigSchema } from '@openretina/trainer';
import { positiveInt } from './common.js';

const missing = z.literal('???');
const shape4 = z.tuple([positiveInt, positiveInt, positiveInt, positiveInt]);

export const coreReadoutModelSchema = z
  .object({
    in_shape: z.union([shape4, missing]),
    hidden_channels: z.array(positiveInt).nullable().optional(),
    /** Filled from the data at run time (`???` in the configs). */
    n_neurons_dict: z.union([missing, z.record(z.string(), z.number().int().nonnegative())]).optional(),
    core: z.lazy(() => coreSchema()),
    readout: z.lazy(() => readoutSchema()),
    loss: z
      .lazy(() => lossSchema())
      .nullable()
      .optional(),
    evaluation_loss: z
      .lazy(() => lossSchema())
      .nullable()
      .optional(),
    learning_rate: z.number().positive().optional(),
    optimizer: optimizerConfigSchema.nullable().optional(),
    lr_scheduler: schedulerConfigSchema.nullable().optional(),
  })
  .strict();
export type CoreReadoutModelConfig = z.output<typeof coreReadoutModelSchema>;

/** A `model` section with its own `_target_` (SingleCellSeparatedLNP, SingleCellSpatialContrast, ...). */
export const targetModelSchema = z.lazy(() => modelSchema());
