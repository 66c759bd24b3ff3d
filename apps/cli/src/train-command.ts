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
import { intOption } from './mei-shared.js';
import { PROGRESS_MODES, progressRenderer, type ProgressMode } from './progress.js';
import { describeStop, renderReport } from './report.js';
import { reportMeis, reportSplits, reportWeights } from './report-data.js';

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
  /** MEIs of this many best test neurons in report.html (default 3; 0: none). */
  reportMeis?: number;
  /** The browser demo's URL for report.html's "open in the demo" link (default: `vite preview`'s http://localhost:4173/). */
  demoUrl?: string;
  io: CliIO;
}

/** Where `pnpm --filter @openretina/demo preview` serves the demo. */
export const DEFAULT_DEMO_URL = 'http://localhost:4173/';

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
    const monitor = ckpt?.monitor ?? 'val_evaluation_loss';
    const best = result.best ? { epoch: result.best.epoch, monitor, score: result.best.score } : null;
    const stopSummary = describeStop(
      {
        epochsRun: result.epochsRun,
        maxEpochs: cfg.trainer.max_epochs,
        stoppedEarly: result.stoppedEarly,
        stopReason: result.stopReason,
        best,
      },
      es as { monitor?: string; patience?: number; min_delta?: number } | undefined,
    );
    // Epochs are counted from 1 in everything a person reads (metrics.json keeps Lightning's 0-based field).
    io.out(
      `trained ${result.epochsRun} epochs in ${trainSeconds.toFixed(1)} s; kept epoch ${best ? best.epoch + 1 : '-'} (${monitor} ${best?.score.toFixed(5) ?? '-'}). ${stopSummary}`,
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
      best,
      epoch_numbering:
        '0-based epoch fields, as Lightning logs them; report.html and the console count epochs from 1 (epoch N there = epoch N-1 here)',
      epochs_run: result.epochsRun,
      stopped_early: result.stoppedEarly,
      stop_reason: result.stopReason,
      stop_summary: stopSummary,
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
    const frameRate = Number((cfg.data_io as Record<string, unknown>).frame_rate ?? 30) || 30;
    const cellTypes = Object.fromEntries(
      sessions.map((s) => {
        const v = data.responses[s]?.sessionKwargs?.cell_type;
        return [s, Array.isArray(v) || ArrayBuffer.isView(v) ? Array.from(v as ArrayLike<unknown>) : undefined];
      }),
    );
    const meiCount = options.reportMeis ?? 3;
    if (meiCount > 0) io.out(`report: MEIs of the ${meiCount} best test neurons`);
    const html = renderReport({
      title: `openretina train: ${cfg.exp_name}`,
      evaluationLoss: lossClassName(model.evaluationLossFunction),
      history: result.history,
      maxEpochs: cfg.trainer.max_epochs,
      best,
      stopSummary,
      splits: await reportSplits(model, loaders, data, engine, evaluations, frameRate),
      ...(await reportWeights(model, cellTypes)),
      meis: await reportMeis(model, evaluations[0], meiCount, engine),
      metricsFile: 'metrics.json',
      demo: { url: options.demoUrl ?? DEFAULT_DEMO_URL, modelPath: 'checkpoints/final/' },
      notes: [
        `config: ${config} ${overrides.join(' ')}`,
        `data: ${resolveDataDir(cfg.paths.data_dir)} — ${sessions.map((s) => `${s}: ${dataInfo.nNeuronsDict[s]} neurons`).join(', ')}`,
        `${trainSeconds.toFixed(1)} s of training on ${backend.name} (engine ${chosen.name}), median ${metrics.seconds_per_epoch_median === null ? 'n/a' : `${Number(metrics.seconds_per_epoch_median).toFixed(2)} s`} per epoch; loss ${lossClassName(model.lossFunction)}`,
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
    '  [--report-meis 3] [--demo-url http://localhost:4173/]\n' +
    '  --report-meis: MEIs of that many best test neurons in report.html (0: none); --demo-url: where report.html opens the model\n' +
    '  --engine (or trainer.engine=...): auto (default) = ONNX Runtime when it covers the model and loss, else TF.js\n' +
    '  presets: hdf5_core_readout, hoefling_2024_core_readout_low_res, bundled_core_readout, ... (configs/ of the CLI)\n' +
    "  overrides use OpenRetina's Hydra keys, e.g. paths.data_dir=/data/my_lab data_io.test_names=[test_movie]\n" +
    '  data_io.color_channels=2 model.hidden_channels=[16,16] trainer.max_epochs=20 paths.output_dir=DIR\n' +
    '  the run goes to runs/<exp_name>/<timestamp>/ (or paths.output_dir): config.yaml, metrics.csv, metrics.json,\n' +
    '  per_neuron_<split>.csv, evaluation_<split>.json, report.html, checkpoints/{best,last,final}',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, overrides } = parseConfigArgs(argv, { 'report-meis': { type: 'string' }, 'demo-url': { type: 'string' } });
    if (!values.config) {
      io.err(`--config is required.\nUsage: ${trainCommand.usage}`);
      return ExitCode.usage;
    }
    await runTraining(values.config, overrides, {
      backend: values.backend ?? 'auto',
      progress: (values.progress ?? 'auto') as ProgressMode,
      ...(values.engine === undefined ? {} : { engine: values.engine }),
      ...(values['report-meis'] === undefined ? {} : { reportMeis: intOption(values['report-meis'], 'report-meis', 0) }),
      ...(values['demo-url'] === undefined ? {} : { demoUrl: values['demo-url'] }),
      io,
    });
    return ExitCode.ok;
  },
};
