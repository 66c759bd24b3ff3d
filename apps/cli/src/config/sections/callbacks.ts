// `training_callbacks`: Lightning callbacks by name; each is recognised by its `_target_`.
import { z } from 'zod';
import { earlyStoppingConfigSchema } from '@openretina/trainer';
import { classTarget, hydraKeys, nullOnly } from './common.js';

const earlyStopping = earlyStoppingConfigSchema.extend({
  _target_: classTarget('lightning.pytorch.callbacks.EarlyStopping', 'EarlyStopping'),
});

/** The metrics CSV has the learning rate of every epoch. */
const lrMonitor = z
  .object({
    _target_: classTarget('lightning.pytorch.callbacks.LearningRateMonitor', 'LearningRateMonitor'),
    ...hydraKeys,
    logging_interval: z.literal('epoch', { error: 'the learning rate is logged once per epoch here ("epoch")' }).nullable().optional(),
    log_momentum: z.boolean().optional(),
    log_weight_decay: z.boolean().optional(),
  })
  .strict();

/** The best checkpoint by `monitor`/`mode`, saved under `dirpath`. */
const modelCheckpoint = z
  .object({
    _target_: classTarget('lightning.pytorch.callbacks.ModelCheckpoint', 'ModelCheckpoint'),
    ...hydraKeys,
    dirpath: z.string().nullable().optional(),
    filename: z.string().nullable().optional(),
    monitor: z.string().nullable().optional(),
    verbose: z.boolean().optional(),
    save_last: z.boolean().nullable().optional(),
    save_top_k: z.literal(1, { error: 'one best checkpoint is kept here (save_top_k: 1)' }).optional(),
    mode: z.enum(['min', 'max']).optional(),
    auto_insert_metric_name: z.boolean().optional(),
    save_weights_only: z.boolean().optional(),
    every_n_train_steps: nullOnly,
    train_time_interval: nullOnly,
    every_n_epochs: z.union([z.null(), z.literal(1)]).optional(),
    save_on_train_epoch_end: z.union([z.null(), z.literal(false)]).optional(),
  })
  .strict();

/** OpenRetina's own callbacks: validated here, refused by `openretina train` (not ported). */
const optimizerReset = z
  .object({ _target_: classTarget('openretina.utils.model_utils.OptimizerResetCallback', 'OptimizerResetCallback'), ...hydraKeys })
  .strict();
const weightVisualization = z
  .object({
    _target_: classTarget('openretina.callbacks.weight_visualization_callback.WeightVisualizationCallback', 'WeightVisualizationCallback'),
    ...hydraKeys,
    every_n_epochs: z.number().int().positive().optional(),
    start_epoch: z.number().int().nonnegative().optional(),
    call_on_train_epoch_end: z.boolean().optional(),
    call_on_validation_epoch_end: z.boolean().optional(),
    folder_path: z.string().nullable().optional(),
  })
  .strict();

export const callbackSchema = z.discriminatedUnion('_target_', [
  earlyStopping,
  lrMonitor,
  modelCheckpoint,
  optimizerReset,
  weightVisualization,
]);
export const trainingCallbacksSchema = z.record(z.string(), callbackSchema);
export type CallbackConfig = z.output<typeof callbackSchema>;
