// `logger`: Lightning loggers by name; CSV, TensorBoard and MLflow (REST) are written, W&B is refused when training.
import { z } from 'zod';
import { classTarget, hydraKeys } from './common.js';

/** CSV and TensorBoard take the same settings: where to write, and Lightning's name/version sub-folders. */
function fileLogger<const P extends string, const S extends string>(target: P, shortName: S) {
  return z
    .object({
      _target_: classTarget(target, shortName),
      ...hydraKeys,
      save_dir: z.string(),
      name: z.string().nullable().optional(),
      version: z.union([z.string(), z.number().int()]).nullable().optional(),
      prefix: z.literal('', { error: 'metric-name prefixes are not supported (prefix: "")' }).optional(),
    })
    .strict();
}

const csv = fileLogger('lightning.pytorch.loggers.csv_logs.CSVLogger', 'CSVLogger');
const tensorboard = fileLogger('lightning.pytorch.loggers.TensorBoardLogger', 'TensorBoardLogger');

/** MLflow: written over its REST API (an http(s) tracking_uri); Weights & Biases: validated here, refused by `openretina train`. */
const mlflow = z
  .object({
    _target_: classTarget('lightning.pytorch.loggers.MLFlowLogger', 'MLFlowLogger'),
    ...hydraKeys,
    experiment_name: z.string(),
    tracking_uri: z.string().nullable().optional(),
    log_model: z.union([z.boolean(), z.literal('all')]).optional(),
    run_name: z.string().nullable().optional(),
    tags: z.record(z.string(), z.string()).nullable().optional(),
  })
  .strict();

const wandb = z
  .object({
    _target_: classTarget('lightning.pytorch.loggers.wandb.WandbLogger', 'WandbLogger'),
    ...hydraKeys,
    offline: z.boolean().optional(),
    project: z.string().nullable().optional(),
    version: z.string().nullable().optional(),
    log_model: z.union([z.boolean(), z.literal('all')]).optional(),
    save_dir: z.string().optional(),
  })
  .strict();

export const loggerSchema = z.discriminatedUnion('_target_', [csv, tensorboard, mlflow, wandb]);
export const loggersSchema = z.record(z.string(), loggerSchema);
export type LoggerConfig = z.output<typeof loggerSchema>;
