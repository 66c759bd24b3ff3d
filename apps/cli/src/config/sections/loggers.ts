// `logger`: Lightning loggers by name; CSV and TensorBoard are written, the others are refused.
import { z } from 'zod';
import { classTarget, hydraKeys } from './common.js';

const csv = z
  .object({
    _target_: classTarget('lightning.pytorch.loggers.csv_logs.CSVLogger', 'CSVLogger'),
    ...hydraKeys,
    save_dir: z.string(),
    name: z.string().nullable().optional(),
    version: z.union([z.string(), z.number().int()]).nullable().optional(),
    prefix: z.literal('', { error: 'metric-name prefixes are not supported (prefix: "")' }).optional(),
  })
  .strict();

const tensorboard = z
  .object({
    _target_: classTarget('lightning.pytorch.loggers.TensorBoardLogger', 'TensorBoardLogger'),
    ...hydraKeys,
    save_dir: z.string(),
    name: z.string().nullable().optional(),
    version: z.union([z.string(), z.number().int()]).nullable().optional(),
    prefix: z.literal('', { error: 'metric-name prefixes are not supported (prefix: "")' }).optional(),
  })
  .strict();

const refused = <const P extends string, const S extends string>(path: P, short: S, name: string) =>
  z
    .object({ _target_: classTarget(path, short) })
    .catchall(z.unknown())
    .superRefine((_value, ctx) => {
      ctx.addIssue({
        code: 'custom',
        message: `${short} needs a service that @openretina does not talk to; drop it with ~logger.${name} (metrics go to the CSV and TensorBoard loggers)`,
        path: ['_target_'],
      });
    });

export const loggerSchema = z.discriminatedUnion('_target_', [
  csv,
  tensorboard,
  refused('lightning.pytorch.loggers.MLFlowLogger', 'MLFlowLogger', 'mlflow'),
  refused('lightning.pytorch.loggers.wandb.WandbLogger', 'WandbLogger', 'wandb'),
]);
export const loggersSchema = z.record(z.string(), loggerSchema);
export type LoggerConfig = z.output<typeof loggerSchema>;
