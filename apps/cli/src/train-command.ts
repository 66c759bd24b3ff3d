import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { initBackend } from '@openretina/backend';
import { ConfigError } from '@openretina/contracts';
import { saveCheckpoint } from '@openretina/hub/node';
import { lossClassName } from '@openretina/models';
import {
  createEarlyStopping,
  createOptimizer,
  createScheduler,
  train,
  trainingDataFromLoaders,
  type TrainingData,
  type TrainResult,
} from '@openretina/trainer';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { CsvLogger, writeJsonReport } from '@openretina/trainer/node';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { chooseEngine, describeEngine, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { evaluateTestSplits, formatSummaries, testSection, writeEvaluationFiles } from './evaluate-splits.js';
import {
  buildExperimentModel,
  experimentDataInfo,
  loadExperimentConfig,
  loadExperimentData,
  makeDataloaders,
  resolveDataDir,
} from './experiment.js';
import { PROGRESS_MODES, progressRenderer, type ProgressMode } from './progress.js';
import { renderReport } from './report.js';

/** What {@link runTraining} returns (also for programmatic use and tests). */
export interface TrainingRun {
  outputDir: string;
  metrics: Record<string, unknown>;
  result: TrainResult;
}

/** Options of {@link runTraining} beyond the config. */
export interface RunTrainingOptions {
  backend?: string;
  /** `auto` | `onnx` | `tfjs`; default the config's `trainer.engine`, else `auto`. */
  engine?: string;
  progress?: ProgressMode;
  io: CliIO;
}

function splitArgs(argv: string[]): { flags: string[]; overrides: string[] } {
  const flags: string[] = [];
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      flags.push(a);
      if (!a.includes('=') && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.push(argv[++i]!);
    } else overrides.push(a);
  }
  return { flags, overrides };
}

/** Parses `--config C [--backend B] [--progress P] key=value ...` (options and overrides in any order). */
export function parseConfigArgs(
  argv: string[],
  extra: Record<string, { type: 'string' }> = {},
): { values: Record<string, string | undefined>; overrides: string[] } {
  const { flags, overrides } = splitArgs(argv);
  const { values } = parseArgs({
    args: flags,
    options: {
      config: { type: 'string' },
      backend: { type: 'string', default: 'auto' },
      progress: { type: 'string', default: 'auto' },
      engine: { type: 'string' },
      ...extra,
    },
    strict: true,
  });
  for (const o of overrides) {
    if (!o.includes('=') && !o.startsWith('~')) throw new ConfigError(`"${o}" is not an override of the form key=value.`);
  }
  return { values: values as Record<string, string | undefined>, overrides };
}

function limitCount(limit: number | undefined, total: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (Number.isInteger(limit) && limit >= 1) return limit;
  if (limit > 0 && limit <= 1) return total === undefined ? undefined : Math.max(1, Math.floor(total * limit));
  throw new ConfigError(`trainer.limit_*_batches must be a count ≥ 1 or a fraction in (0, 1], got ${limit}.`);
}

function* head<T extends { inputs: { dispose(): void }; targets: { dispose(): void } }>(
  it: Iterable<T>,
  n: number | undefined,
): Generator<T> {
  let i = 0;
  for (const b of it) {
    if (n !== undefined && i >= n) {
      b.inputs.dispose();
      b.targets.dispose();
      continue;
    }
    i++;
    yield b;
  }
}

/** Lightning's trainer.limit_train_batches / limit_val_batches (a count, or a fraction of the batches). */
function limitBatches(data: TrainingData, train: number | undefined, val: number | undefined): TrainingData {
  if (train === undefined && val === undefined) return data;
  const nTrain = limitCount(train, data.stepsPerEpoch);
  const nVal = limitCount(val, undefined);
  const steps = data.stepsPerEpoch === undefined ? nTrain : Math.min(data.stepsPerEpoch, nTrain ?? Infinity);
  return {
    ...(steps === undefined ? {} : { stepsPerEpoch: steps }),
    train: (epoch) => head(data.train(epoch), nTrain),
    validation: () => head(data.validation(), nVal),
  };
}

/** Trains a model as the config says and writes the run folder. */
export async function runTraining(config: string, overrides: readonly string[], options: RunTrainingOptions): Promise<TrainingRun> {
  const { io } = options;
  const started = Date.now();
  const { tree, cfg, outputDir } = loadExperimentConfig(config, overrides);
  const progress = options.progress ?? 'auto';
  if (!PROGRESS_MODES.includes(progress)) throw new ConfigError(`--progress must be auto, bar, lines or none, got "${progress}".`);
  const engineChoice = parseEngineChoice(
    options.engine ?? cfg.trainer.engine ?? 'auto',
    options.engine === undefined ? 'trainer.engine' : '--engine',
  );
  if (cfg.trainer.precision !== undefined && !String(cfg.trainer.precision).startsWith('32')) {
    io.err(`warning: trainer.precision=${cfg.trainer.precision} is ignored; training runs in float32.`);
  }
  const backend = await initBackend((options.backend ?? 'auto') as 'auto');
  io.out(`backend: ${backend.name} (${backend.reason})`);
  const out = resolve(outputDir);

  const data = await loadExperimentData(cfg);
  const sessions = Object.keys(data.responses).sort();
  const dataInfo = experimentDataInfo(cfg, data, (m) => io.err(`warning: ${m}`));
  io.out(
    `data: ${resolveDataDir(cfg.paths.data_dir)} (${cfg.data_io.reader}): ${sessions.map((s) => `${s} ${dataInfo.nNeuronsDict[s]} neurons`).join(', ')}; test: ${data.testNames.join(', ')}`,
  );
  const loaders = makeDataloaders(cfg, data);
  const model = await buildExperimentModel(cfg, dataInfo, (m) => io.out(m));
  let chosen: ChosenEngine | undefined;
  try {
    io.out(`loss: ${lossClassName(model.lossFunction)}, evaluation loss: ${lossClassName(model.evaluationLossFunction)}`);
    chosen = await chooseEngine(model, engineChoice, { training: true });
    io.out(describeEngine(chosen));
    const engine = chosen.engine; // training steps, validation and the test evaluation
    mkdirSync(out, { recursive: true });
    writeFileAtomicSync(join(out, 'config.yaml'), toYaml(tree));

    const learningRate = cfg.model.learning_rate ?? model.learningRate;
    const optimizerConfig = (cfg.optimizer ?? null) as Record<string, unknown> | null;
    const schedulerConfig = (cfg.lr_scheduler ?? null) as Record<string, unknown> | null;
    const es = cfg.training_callbacks?.early_stopping;
    const ckpt = cfg.training_callbacks?.model_checkpoint as { monitor?: string; mode?: 'min' | 'max' } | undefined;
    const trainingData = limitBatches(
      trainingDataFromLoaders(loaders, { seed: cfg.seed }),
      cfg.trainer.limit_train_batches,
      cfg.trainer.limit_val_batches,
    );
    const bestDir = join(out, 'checkpoints', 'best');
    const meta = { name: cfg.exp_name, description: `Trained by openretina train (${config})` };
    const accumulate = cfg.trainer.accumulate_grad_batches ?? 1;
    io.out(
      `training ${cfg.exp_name}: ${cfg.trainer.max_epochs} epochs max, ${trainingData.stepsPerEpoch} batches per epoch, batch ${cfg.dataloader.batch_size}${accumulate > 1 ? `, gradients accumulated over ${accumulate} batches` : ''}${cfg.only_train_readout ? ', readout only' : ''} → ${out}`,
    );
    const result = await train(model, trainingData, {
      maxEpochs: cfg.trainer.max_epochs,
      optimizer: (params) => createOptimizer(optimizerConfig, params, learningRate),
      scheduler: schedulerConfig === null ? null : (opt, totalSteps) => createScheduler(schedulerConfig, opt, learningRate, totalSteps),
      gradientClipVal: cfg.trainer.gradient_clip_val ?? null,
      accumulateGradBatches: accumulate,
      engine,
      earlyStopping: es ? createEarlyStopping(es) : null,
      checkpoint: { monitor: ckpt?.monitor ?? 'val_evaluation_loss', mode: ckpt?.mode ?? 'max' },
      onlyTrainReadout: cfg.only_train_readout ?? false,
      logger: new CsvLogger(join(out, 'metrics.csv')),
      onProgress: progressRenderer(progress),
      callbacks: {
        onCheckpoint: async (ctx) => {
          await saveCheckpoint(ctx.model, bestDir, meta);
        },
      },
    });
    // the weights at the end of training (the model now holds the best ones)
    const bestWeights = model.stateDict();
    model.loadStateDict(result.finalState.model);
    await saveCheckpoint(model, join(out, 'checkpoints', 'last'), meta);
    model.loadStateDict(bestWeights);
    const trainSeconds = (Date.now() - started) / 1000;
    io.out(
      `trained ${result.epochsRun} epochs in ${trainSeconds.toFixed(1)} s${result.stopReason ? ` (${result.stopReason})` : ''}; best epoch ${result.best ? result.best.epoch + 1 : '-'} (${ckpt?.monitor ?? 'val_evaluation_loss'} ${result.best?.score.toFixed(4) ?? '-'})`,
    );

    const evaluations = await evaluateTestSplits(model, loaders, data, engine, {
      modelPath: join(out, 'checkpoints', 'final'),
      expName: cfg.exp_name,
    });
    const test = testSection(evaluations);
    // OpenRetina's _final checkpoint: the best weights with the test performance in the data info.
    model.dataInfo = {
      ...(model.dataInfo ?? dataInfo),
      extra: {
        ...(model.dataInfo?.extra ?? {}),
        pretrained_performance_metric: 'test correlation to the trial-averaged response (per neuron)',
        pretrained_performance: Object.fromEntries(
          sessions.map((s) => [s, evaluations[0]?.rows.filter((r) => r.session === s).map((r) => r.corr_to_average) ?? []]),
        ),
        model_cut_frames: model.framesCut,
      },
    };
    await saveCheckpoint(model, join(out, 'checkpoints', 'final'), meta);
    const epochTimes = result.history.map((h) => h.metrics.epoch_seconds ?? NaN).filter(Number.isFinite);
    const sorted = [...epochTimes].sort((a, b) => a - b);
    const metrics: Record<string, unknown> = {
      test,
      best: result.best ? { epoch: result.best.epoch, monitor: ckpt?.monitor ?? 'val_evaluation_loss', score: result.best.score } : null,
      epochs_run: result.epochsRun,
      stopped_early: result.stoppedEarly,
      stop_reason: result.stopReason,
      seconds_per_epoch_median: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : null,
      seconds_total: (Date.now() - started) / 1000,
      backend: backend.name,
      engine: chosen.name,
      loss: lossClassName(model.lossFunction),
      evaluation_loss: lossClassName(model.evaluationLossFunction),
      exp_name: cfg.exp_name,
      config: config,
      overrides: [...overrides],
      sessions: Object.fromEntries(sessions.map((s) => [s, dataInfo.nNeuronsDict[s]])),
      history: result.history.map((h) => ({ epoch: h.epoch, step: h.step, lr: h.lr, ...h.metrics })),
    };
    writeEvaluationFiles(out, evaluations);
    writeJsonReport(join(out, 'metrics.json'), metrics);
    const html = await renderReport({
      title: `openretina train: ${cfg.exp_name}`,
      evaluationLoss: lossClassName(model.evaluationLossFunction),
      history: result.history,
      perNeuron: Object.fromEntries(
        evaluations.map((e) => [e.split, e.rows.map((r) => ({ session: r.session, correlation: r.corr_to_average }))]),
      ),
      metrics: {
        test,
        best: metrics.best,
        epochs_run: result.epochsRun,
        seconds_per_epoch_median: metrics.seconds_per_epoch_median,
        backend: backend.name,
      },
      notes: [
        `config: ${config} ${overrides.join(' ')}`,
        `data: ${resolveDataDir(cfg.paths.data_dir)} — ${sessions.map((s) => `${s}: ${dataInfo.nNeuronsDict[s]} neurons`).join(', ')}`,
        `${result.epochsRun} epochs, best epoch ${result.best ? result.best.epoch + 1 : '-'}, ${trainSeconds.toFixed(1)} s on ${backend.name} (engine ${chosen.name})`,
      ],
    });
    writeFileAtomicSync(join(out, 'report.html'), html);
    io.out(formatSummaries(evaluations));
    for (const e of evaluations)
      io.out(`test correlation (${e.split}): ${e.metrics.correlation!.toFixed(4)} over ${e.metrics.n_neurons} neurons`);
    io.out(`run written to ${out} (config.yaml, metrics.json, metrics.csv, per_neuron_*.csv, report.html, checkpoints/{best,last,final})`);
    return { outputDir: out, metrics, result };
  } finally {
    chosen?.engine.dispose();
    model.dispose();
  }
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a model from an experiment config (preset or YAML) with OpenRetina-style key=value overrides',
  usage:
    'openretina train --config FILE|PRESET [key=value ...] [--engine auto|onnx|tfjs] [--backend auto|wasm|cpu] [--progress auto|bar|lines|none]\n' +
    '  --engine (or trainer.engine=...): auto (default) = ONNX Runtime when it covers the model and loss, else TF.js\n' +
    '  presets: hdf5_core_readout, hoefling_2024_core_readout_low_res, bundled_core_readout, ... (configs/ of the CLI)\n' +
    "  overrides use OpenRetina's Hydra keys, e.g. paths.data_dir=/data/my_lab data_io.test_names=[test_movie]\n" +
    '  data_io.color_channels=2 model.hidden_channels=[16,16] trainer.max_epochs=20 paths.output_dir=DIR\n' +
    '  the run goes to runs/<exp_name>/<timestamp>/ (or paths.output_dir): config.yaml, metrics.csv, metrics.json,\n' +
    '  per_neuron_<split>.csv, evaluation_<split>.json, report.html, checkpoints/{best,last,final}',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, overrides } = parseConfigArgs(argv);
    if (!values.config) {
      io.err(`--config is required.\nUsage: ${trainCommand.usage}`);
      return ExitCode.usage;
    }
    await runTraining(values.config, overrides, {
      backend: values.backend ?? 'auto',
      progress: (values.progress ?? 'auto') as ProgressMode,
      ...(values.engine === undefined ? {} : { engine: values.engine }),
      io,
    });
    return ExitCode.ok;
  },
};
