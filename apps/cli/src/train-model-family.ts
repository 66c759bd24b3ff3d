// `openretina train` for models whose `model` section names its own class (OpenRetina's single-cell LNP and
// spatial-contrast models, ...): any TrainableModel goes through the same train() loop, TF.js engine, callbacks,
// loggers and test evaluation as the core-readout path; checkpoints are the model's state dict as safetensors.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { BackendInfo } from '@openretina/backend';
import { DataError, type TrainableModel } from '@openretina/contracts';
import { writeSafetensors } from '@openretina/formats';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { TfjsEngine } from '@openretina/models';
import {
  createEarlyStopping,
  createOptimizer,
  createScheduler,
  train,
  trainingDataFromLoaders,
  type TrainResult,
} from '@openretina/trainer';
import { CsvLogger, TensorBoardLogger, writeJsonReport } from '@openretina/trainer/node';
import type { CliIO } from './commands.js';
import type { ConfigTree, ExperimentConfig } from './config/index.js';
import { resolveDataDir } from './data-path.js';
import { evaluateTestSplits, formatSummaries, testSection, writeEvaluationFiles } from './evaluate-splits.js';
import { experimentDataInfo, withExperimentData } from './experiment-data.js';
import { experimentLoaders } from './experiment-loaders.js';
import { buildTargetModel } from './model-family.js';
import { experimentLoggers, findCallback } from './run-outputs.js';
import { progressRenderer, type ProgressMode } from './progress.js';
import { trainingOutcome } from './report.js';

/** What the core-readout path has already settled when it hands a model class over. */
export interface ModelFamilyRun {
  config: string;
  overrides: readonly string[];
  tree: ConfigTree;
  cfg: ExperimentConfig;
  outputDir: string;
  backend: BackendInfo;
  progress: ProgressMode;
  started: number;
  io: CliIO;
}

/** The model's state dict as a safetensors file (`model.safetensors`) in `dir`, with the model section beside it. */
function saveStateDict(model: TrainableModel, dir: string, cfg: ExperimentConfig): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomicSync(join(dir, 'model.safetensors'), writeSafetensors(model.stateDict(), { format: 'pt' }));
  writeFileAtomicSync(join(dir, 'model.yaml'), toYaml(cfg.model));
}

/**
 * Trains the model class of `model._target_` on the experiment's data and writes the run folder: config.yaml,
 * metrics.csv, metrics.json, per_neuron_<split>.csv, evaluation_<split>.json and checkpoints/{best,final}.
 */
export async function runModelFamilyTraining(
  run: ModelFamilyRun,
): Promise<{ outputDir: string; metrics: Record<string, unknown>; result: TrainResult }> {
  const { cfg, io } = run;
  const out = resolve(run.outputDir);
  return withExperimentData(
    cfg,
    (m) => io.out(m),
    (m) => io.err(`warning: ${m}`),
    async (read) => {
      const dataInfo = experimentDataInfo(cfg, read, (m) => io.err(`warning: ${m}`));
      const { loaders, data } = await experimentLoaders(cfg, read, (m) => io.err(`warning: ${m}`));
      const sessions = Object.keys(data.responses).sort();
      const neurons = (s: string) => data.responses[s]!.train.shape[1];
      io.out(
        `data: ${resolveDataDir(String(cfg.paths.data_dir))}: ${sessions.map((s) => `${s} ${neurons(s)} neurons`).join(', ')}; test: ${data.testNames.join(', ')}`,
      );
      const model = await buildTargetModel(cfg, dataInfo);
      const engine = new TfjsEngine(model);
      try {
        const target = String(cfg.model._target_);
        io.out(`model: ${target.split('.').pop()} (${[...model.stateDict().keys()].length} state-dict entries), engine tfjs`);
        mkdirSync(out, { recursive: true });
        writeFileAtomicSync(join(out, 'config.yaml'), toYaml(run.tree));
        const section = cfg.model as { learning_rate?: number; optimizer?: unknown; lr_scheduler?: unknown };
        const learningRate = section.learning_rate ?? model.learningRate ?? 1e-3;
        // OpenRetina instantiates these classes from the model section alone: their configure_optimizers is AdamW at the
        // model's learning rate with ReduceLROnPlateau (train()'s default scheduler); top-level optimizer /
        // lr_scheduler groups do not reach them
        const optimizerConfig = (section.optimizer ?? null) as Parameters<typeof createOptimizer>[0];
        const schedulerConfig = (section.lr_scheduler ?? null) as Parameters<typeof createScheduler>[0] | null;
        const es = findCallback(cfg, 'EarlyStopping');
        const ckpt = findCallback(cfg, 'ModelCheckpoint');
        const checkpointsDir = resolve(ckpt?.dirpath ?? join(out, 'checkpoints'));
        const monitor = ckpt?.monitor ?? 'val_evaluation_loss';
        const trainingData = trainingDataFromLoaders(loaders, cfg.seed === null ? {} : { seed: cfg.seed });
        io.out(`training ${cfg.exp_name}: ${cfg.trainer.max_epochs} epochs max, ${trainingData.stepsPerEpoch} batches per epoch → ${out}`);
        const result = await train(model, trainingData, {
          maxEpochs: cfg.trainer.max_epochs,
          optimizer: (params) => createOptimizer(optimizerConfig, params, learningRate),
          ...(schedulerConfig === null
            ? {}
            : { scheduler: (opt, totalSteps) => createScheduler(schedulerConfig, opt, learningRate, totalSteps) }),
          gradientClipVal: cfg.trainer.gradient_clip_val ?? null,
          accumulateGradBatches: cfg.trainer.accumulate_grad_batches ?? 1,
          engine,
          earlyStopping: es ? createEarlyStopping(es, (m) => io.err(`warning: ${m}`)) : null,
          checkpoint: { monitor, mode: ckpt?.mode ?? 'max' },
          logger: [
            new CsvLogger(join(out, 'metrics.csv')),
            ...experimentLoggers(cfg, { csv: (p) => new CsvLogger(p), tensorboard: (d) => new TensorBoardLogger(d) }),
          ],
          onProgress: progressRenderer(run.progress),
          callbacks: {
            onCheckpoint: (ctx) => saveStateDict(ctx.model, join(checkpointsDir, 'best'), cfg),
            ...(cfg.trainer.detect_anomaly
              ? {
                  onBatchEnd: (_ctx, info) => {
                    if (!Number.isFinite(info.loss))
                      throw new DataError(
                        `trainer.detect_anomaly: the loss of batch ${info.batch} (session ${info.session}) is ${info.loss}.`,
                      );
                  },
                }
              : {}),
          },
        });
        const { best, stopSummary, line } = trainingOutcome(result, cfg.trainer.max_epochs, monitor, es);
        io.out(line);
        const evaluations = await evaluateTestSplits(model, loaders, data, engine, { expName: cfg.exp_name });
        saveStateDict(model, join(checkpointsDir, 'final'), cfg);
        const metrics: Record<string, unknown> = {
          test: testSection(evaluations),
          best,
          epoch_numbering: '0-based epoch fields, as Lightning logs them',
          epochs_run: result.epochsRun,
          stopped_early: result.stoppedEarly,
          stop_reason: result.stopReason,
          stop_summary: stopSummary,
          seconds_total: (Date.now() - run.started) / 1000,
          backend: run.backend.name,
          engine: 'tfjs',
          model: target,
          exp_name: cfg.exp_name,
          config: run.config,
          overrides: [...run.overrides],
          sessions: Object.fromEntries(sessions.map((s) => [s, neurons(s)])),
          history: result.history.map((h) => ({ epoch: h.epoch, step: h.step, lr: h.lr, ...h.metrics })),
        };
        writeEvaluationFiles(out, evaluations);
        writeJsonReport(join(out, 'metrics.json'), metrics);
        io.out(formatSummaries(evaluations));
        for (const e of evaluations)
          io.out(`test correlation (${e.split}): ${e.metrics.correlation!.toFixed(4)} over ${e.metrics.n_neurons} neurons`);
        io.out(`run written to ${out} (config.yaml, metrics.json, metrics.csv, per_neuron_*.csv; checkpoints in ${checkpointsDir})`);
        return { outputDir: out, metrics, result };
      } finally {
        engine.dispose();
        model.dispose();
      }
    },
  );
}
