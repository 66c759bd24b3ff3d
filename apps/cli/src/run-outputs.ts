// What the config's callbacks and loggers ask the run to write (Lightning's layouts).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '@openretina/contracts';
import type { TrainLogger } from '@openretina/trainer';
import type { ExperimentConfig } from './config/index.js';
import type { CallbackConfig } from './config/sections/callbacks.js';

type ByClass<N extends string> = Extract<CallbackConfig, { _target_: `lightning.pytorch.callbacks.${N}` | N }>;

/** The training callback of a Lightning class (by `_target_`, whatever its name in the config). */
export function findCallback<N extends 'EarlyStopping' | 'ModelCheckpoint' | 'LearningRateMonitor'>(
  cfg: ExperimentConfig,
  cls: N,
): ByClass<N> | undefined {
  for (const c of Object.values(cfg.training_callbacks ?? {})) {
    if (c._target_ === cls || c._target_ === `lightning.pytorch.callbacks.${cls}`) return c as ByClass<N>;
  }
  return undefined;
}

/** Lightning's log folder: save_dir/name/version, `name` defaulting to lightning_logs and a null version to the next version_N. */
export function loggerDir(saveDir: string, name: string | null | undefined, version: string | number | null | undefined): string {
  const root = name === null ? saveDir : join(saveDir, name ?? 'lightning_logs');
  if (version !== null && version !== undefined)
    return typeof version === 'number' ? join(root, `version_${version}`) : join(root, version);
  const taken = existsSync(root) ? readdirSync(root).flatMap((f) => (/^version_(\d+)$/.exec(f) ? [Number(f.slice(8))] : [])) : [];
  return join(root, `version_${taken.length ? Math.max(...taken) + 1 : 0}`);
}

/** What an MLflow logger of the config asks for (the `logger.mlflow` keys). */
export interface MlflowLoggerConfig {
  trackingUri: string;
  experimentName: string;
  runName: string | null;
  tags: Record<string, string>;
}

/** The loggers of the config's `logger` section (CSV: metrics.csv; TensorBoard: an event file; MLflow: its REST API). */
export function experimentLoggers<M extends TrainLogger = TrainLogger>(
  cfg: ExperimentConfig,
  make: { csv: (path: string) => TrainLogger; tensorboard: (dir: string) => TrainLogger; mlflow?: (settings: MlflowLoggerConfig) => M },
): TrainLogger[] {
  return Object.values(cfg.logger ?? {}).flatMap((l) => {
    switch (l._target_) {
      case 'lightning.pytorch.loggers.csv_logs.CSVLogger':
      case 'CSVLogger':
        return [make.csv(join(loggerDir(l.save_dir, l.name, l.version), 'metrics.csv'))];
      case 'lightning.pytorch.loggers.TensorBoardLogger':
      case 'TensorBoardLogger':
        return [make.tensorboard(loggerDir(l.save_dir, l.name, l.version))];
      case 'lightning.pytorch.loggers.MLFlowLogger':
      case 'MLFlowLogger':
        return make.mlflow
          ? [
              make.mlflow({
                trackingUri: l.tracking_uri ?? 'http://localhost:5000',
                experimentName: l.experiment_name,
                runName: l.run_name ?? null,
                tags: l.tags ?? {},
              }),
            ]
          : [];
      default:
        return []; // W&B: refused by refuseUnavailable
    }
  });
}

/** Loggers and callbacks of the config that `openretina train` cannot honour: an error naming each and how to drop it. */
export function refuseUnavailable(cfg: ExperimentConfig): void {
  const problems: string[] = [];
  for (const [name, l] of Object.entries(cfg.logger ?? {})) {
    const cls = l._target_.split('.').pop();
    if (cls === 'MLFlowLogger' && 'tracking_uri' in l && !/^https?:\/\//.test(l.tracking_uri ?? 'http://')) {
      problems.push(
        `logger.${name} (${cls}) tracking_uri "${l.tracking_uri}" is not an MLflow tracking server; set logger.${name}.tracking_uri=http://HOST:5000 (or MLFLOW_TRACKING_URI) or drop it with ~logger.${name}`,
      );
    }
    if (cls === 'WandbLogger') {
      problems.push(`logger.${name} (${cls}) needs a service that @openretina does not talk to; drop it with ~logger.${name}`);
    }
  }
  for (const [name, c] of Object.entries(cfg.training_callbacks ?? {})) {
    const cls = c._target_.split('.').pop();
    if (cls === 'OptimizerResetCallback' || cls === 'WeightVisualizationCallback') {
      problems.push(`training_callbacks.${name} (${cls}) is not available in @openretina; drop it with ~training_callbacks.${name}`);
    }
  }
  if (problems.length)
    throw new UnsupportedError(`This experiment asks for what openretina train does not do:\n  ${problems.join('\n  ')}`);
}
