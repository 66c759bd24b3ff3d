import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { initBackend } from '@openretina/backend';
import { ConfigError, DataError } from '@openretina/contracts';
import { saveCheckpoint, writeCheckpointFolder } from '@openretina/hub/node';
import { type CheckpointFiles, checkpointToBytes } from '@openretina/hub';
import { lossClassName } from '@openretina/models';
import {
  createEarlyStopping,
  createOptimizer,
  createScheduler,
  train,
  trainingDataFromLoaders,
  type TrainingData,
  type TrainLogger,
  type TrainResult,
} from '@openretina/trainer';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { CsvLogger, TensorBoardLogger, writeJsonReport } from '@openretina/trainer/node';
import { MlflowLogger } from '@openretina/trainer';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { backendOption, configOptions, deviceOption, engineOption, progressOption } from './options/common-options.js';
import { parseOptions, type OptionTable } from './options/option-table.js';
import { UsageError } from './errors.js';
import { chooseEngine, describeEngine, parseDevice, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { evaluateTestSplits, formatSummaries, testSection, writeEvaluationFiles } from './evaluate-splits.js';
import { resolveDataDir } from './data-path.js';
import { experimentLoaders } from './experiment-loaders.js';
import { loadExperimentConfig } from './experiment-config.js';
import { experimentDataInfo, withExperimentData, type ExperimentData } from './experiment-data.js';
import { buildExperimentModel, coreReadoutSection } from './model-construction.js';
import { hasModelTarget } from './model-family.js';
import { runModelFamilyTraining } from './train-model-family.js';
import { experimentLoggers, findCallback, refuseUnavailable } from './run-outputs.js';
import { intOption } from './mei-shared.js';
import { PROGRESS_MODES, progressRenderer, type ProgressMode } from './progress.js';
import { renderReport, trainingOutcome } from './report.js';
import { reportMeis, reportSplits, reportWeights } from './report-data.js';
import { assertFiniteData } from './finite-inputs.js';
import { checkRunFolder, clearRunFiles } from './run-folder.js';
import { lockRunFolder } from './run-lock.js';
import { RunMetricsCsv } from './run-metrics.js';
import { readRunEngine, RUN_ENGINE_FILE, writeRunEngine } from './run-engine.js';
import { readTrainingState, saveLastCheckpoint } from './run-state.js';

/** What {@link runTraining} returns (also for programmatic use and tests). */
export interface TrainingRun {
  outputDir: string;
  metrics: Record<string, unknown>;
  result: TrainResult;
}

/** Options of {@link runTraining} beyond the config. */
export interface RunTrainingOptions {
  /** The config folder (`--config-path`): `config` is then a config name in it. */
  configDir?: string;
  backend?: string;
  /** `auto` | `onnx` | `tfjs`; default the config's `trainer.engine`, else `auto`. */
  engine?: string;
  /** Where the ONNX engine runs: `cpu` (default) | `cuda` | `webgpu` (a ConfigError says what a device lacks). */
  device?: string;
  progress?: ProgressMode;
  /** MEIs of this many best test neurons in report.html (default 3; 0: none). */
  reportMeis?: number;
  /** The browser demo's URL for report.html's "open in the demo" link (default: `vite preview`'s http://localhost:4173/). */
  demoUrl?: string;
  /** Replace the run a folder already holds (`--overwrite`); without it such a folder is refused. */
  overwrite?: boolean;
  /** Continue the run in the output folder from its `last/` checkpoint (`--resume RUN_DIR`). */
  resume?: boolean;
  /** More loggers of each epoch (a sweep's trial reports its progress through one). */
  loggers?: readonly TrainLogger[];
  io: CliIO;
}

/** Where `pnpm --filter @openretina/demo preview` serves the demo. */
export const DEFAULT_DEMO_URL = 'http://localhost:4173/';

/**
 * Parses `--config C [--backend B] ... key=value ...` (options and Hydra overrides in any order) with a command's
 * option table; every bare word must be an override (`key=value`, `~key`).
 */
export function parseConfigArgs(
  argv: string[],
  table: OptionTable,
  warn?: (line: string) => void,
): { values: Record<string, string | boolean | undefined>; overrides: string[] } {
  const { values, overrides } = parseOptions(table, argv, { overrides: true, ...(warn ? { warn } : {}) });
  for (const o of overrides) {
    if (!o.includes('=') && !o.startsWith('~')) throw new ConfigError(`"${o}" is not an override of the form key=value.`);
  }
  return { values, overrides };
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

/** The data reader's name for messages: the short name of `data_io.stimuli._target_`. */
function readerName(cfg: { data_io: Record<string, unknown> }): string {
  const stimuli = cfg.data_io.stimuli;
  const target = stimuli && typeof stimuli === 'object' ? (stimuli as Record<string, unknown>)._target_ : undefined;
  return typeof target === 'string' ? target.split('.').slice(-2).join('.') : 'data_io';
}

/** The value of a validation metric at the best checkpoint (null when the metric was not logged). */
function objectiveValue(result: TrainResult, metric: string): number | null {
  const at = result.best ? result.history.find((h) => h.epoch === result.best!.epoch) : result.history[result.history.length - 1];
  const v = at?.metrics[metric];
  return typeof v === 'number' ? v : null;
}

/** Trains a model as the config says and writes the run folder. */
export async function runTraining(config: string, overrides: readonly string[], options: RunTrainingOptions): Promise<TrainingRun> {
  const { io } = options;
  const started = Date.now();
  const { tree, cfg, outputDir } = loadExperimentConfig(
    config,
    overrides,
    options.configDir === undefined ? {} : { configDir: options.configDir },
  );
  refuseUnavailable(cfg);
  const progress = options.progress ?? 'auto';
  if (!PROGRESS_MODES.includes(progress)) throw new ConfigError(`--progress must be auto, bar, lines or none, got "${progress}".`);
  // a resumed run continues on the engine and backend it trained on, unless told otherwise
  const recorded = options.resume ? readRunEngine(resolve(outputDir)) : undefined;
  const engineChoice = parseEngineChoice(
    options.engine ?? recorded?.engine ?? cfg.trainer.engine ?? 'auto',
    options.engine === undefined ? (recorded ? `${RUN_ENGINE_FILE} (the run's engine)` : 'trainer.engine') : '--engine',
  );
  if (cfg.trainer.precision !== undefined && !String(cfg.trainer.precision).startsWith('32')) {
    io.out(`trainer.precision=${cfg.trainer.precision} permits 16-bit arithmetic; @openretina computes in float32 (at least as precise).`);
  }
  // trainer.accelerator: cpu picks the TF.js CPU backend; --backend decides when given.
  const backend = await initBackend(
    (options.backend ?? recorded?.backend ?? (cfg.trainer.accelerator === 'cpu' ? 'cpu' : 'auto')) as 'auto',
  );
  io.out(`backend: ${backend.name} (${backend.reason})`);
  const out = resolve(outputDir);
  // a folder that holds a run is not written over; one process per folder
  checkRunFolder(out, { overwrite: options.overwrite ?? false, resume: options.resume ?? false });
  mkdirSync(out, { recursive: true });
  const lock = lockRunFolder(out);
  try {
    if (options.overwrite && !options.resume) clearRunFiles(out);
    // a model class of its own (`model._target_`): the same loop for any TrainableModel
    if (hasModelTarget(cfg)) {
      if (options.resume) throw new UsageError('--resume continues core-readout runs only; this config trains a model class of its own.');
      return await runModelFamilyTraining({ config, overrides, tree, cfg, outputDir: out, backend, progress, started, io });
    }
    coreReadoutSection(cfg);
    const run = { tree, cfg, out, started, progress, engineChoice, backend };
    return await withExperimentData(
      cfg,
      (m) => io.out(m),
      (m) => io.err(`warning: ${m}`),
      (read) => trainInFolder(read, config, overrides, options, run),
    );
  } finally {
    lock.release();
  }
}

/** What {@link runTraining} has settled before training: the config, the run folder, the engine and backend. */
interface FolderRun {
  tree: ReturnType<typeof loadExperimentConfig>['tree'];
  cfg: ReturnType<typeof loadExperimentConfig>['cfg'];
  out: string;
  started: number;
  progress: ProgressMode;
  engineChoice: ReturnType<typeof parseEngineChoice>;
  backend: Awaited<ReturnType<typeof initBackend>>;
}

/** {@link runTraining} once the run folder is checked and locked and the data is read. */
async function trainInFolder(
  read: ExperimentData,
  config: string,
  overrides: readonly string[],
  options: RunTrainingOptions,
  run: FolderRun,
): Promise<TrainingRun> {
  const { io } = options;
  const { tree, cfg, out, started, progress, engineChoice, backend } = run;
  assertFiniteData(read, resolveDataDir(String(cfg.paths.data_dir)));
  const dataInfo = experimentDataInfo(cfg, read, (m) => io.err(`warning: ${m}`));
  const { loaders, data } = await experimentLoaders(cfg, read, (m) => io.err(`warning: ${m}`));
  const sessions = Object.keys(data.responses).sort();
  io.out(
    `data: ${resolveDataDir(String(cfg.paths.data_dir))} (${readerName(cfg)}): ${sessions.map((s) => `${s} ${dataInfo.nNeuronsDict[s]} neurons`).join(', ')}; test: ${data.testNames.join(', ')}`,
  );
  const model = await buildExperimentModel(cfg, dataInfo, (m) => io.out(m));
  let chosen: ChosenEngine | undefined;
  try {
    io.out(`loss: ${lossClassName(model.lossFunction)}, evaluation loss: ${lossClassName(model.evaluationLossFunction)}`);
    chosen = await chooseEngine(model, engineChoice, { training: true, device: parseDevice(options.device) });
    io.out(describeEngine(chosen));
    const engine = chosen.engine; // training steps, validation and the test evaluation
    mkdirSync(out, { recursive: true });
    writeFileAtomicSync(join(out, 'config.yaml'), toYaml(tree));
    writeRunEngine(out, { engine: chosen.name, backend: backend.name });

    const section = coreReadoutSection(cfg);
    const learningRate = section.learning_rate ?? model.learningRate;
    // OpenRetina's model configures its optimizer from model.optimizer / model.lr_scheduler (the groups' values)
    const optimizerConfig = ('optimizer' in section ? section.optimizer : cfg.optimizer) ?? null;
    const schedulerConfig = ('lr_scheduler' in section ? section.lr_scheduler : cfg.lr_scheduler) ?? null;
    const es = findCallback(cfg, 'EarlyStopping');
    const ckpt = findCallback(cfg, 'ModelCheckpoint');
    const checkpointsDir = resolve(ckpt?.dirpath ?? join(out, 'checkpoints'));
    const trainingData = limitBatches(
      trainingDataFromLoaders(loaders, cfg.seed === null ? {} : { seed: cfg.seed }),
      cfg.trainer.limit_train_batches ?? undefined,
      cfg.trainer.limit_val_batches ?? undefined,
    );
    const bestDir = join(checkpointsDir, 'best');
    const lastDir = join(checkpointsDir, 'last');
    const resumeState = options.resume ? readTrainingState(lastDir) : undefined;
    const metricsCsv = new RunMetricsCsv(join(out, 'metrics.csv'), resumeState?.history);
    if (resumeState) io.out(`resuming after epoch ${resumeState.epoch} from ${lastDir}`);
    const monitor = ckpt?.monitor ?? 'val_evaluation_loss';
    const meta = { name: cfg.exp_name, description: `Trained by openretina train (${config})` };
    const accumulate = cfg.trainer.accumulate_grad_batches ?? 1;
    /** The checkpoint files of the epoch whose weights best/ has just taken (until that epoch's last/ is written). */
    let improved: { epoch: number; files: CheckpointFiles } | undefined;
    io.out(
      `training ${cfg.exp_name}: ${cfg.trainer.max_epochs} epochs max, ${trainingData.stepsPerEpoch} batches per epoch, batch ${cfg.dataloader.batch_size}${accumulate > 1 ? `, gradients accumulated over ${accumulate} batches` : ''}${cfg.only_train_readout ? ', readout only' : ''} → ${out}`,
    );
    const mlflowLoggers: MlflowLogger[] = [];
    const configLoggers = experimentLoggers(cfg, {
      csv: (p) => new CsvLogger(p),
      tensorboard: (d) => new TensorBoardLogger(d),
      mlflow: (settings) => {
        // MLflow's params: the trial's overrides (what a sweep varies) and the experiment's name and seed
        const logger = new MlflowLogger({
          ...settings,
          params: { exp_name: cfg.exp_name, seed: cfg.seed, config, overrides: overrides.join(' ') },
        });
        mlflowLoggers.push(logger);
        return logger;
      },
    });
    const result = await train(model, trainingData, {
      maxEpochs: cfg.trainer.max_epochs,
      optimizer: (params) => createOptimizer(optimizerConfig, params, learningRate),
      scheduler: schedulerConfig === null ? null : (opt, totalSteps) => createScheduler(schedulerConfig, opt, learningRate, totalSteps),
      gradientClipVal: cfg.trainer.gradient_clip_val ?? null,
      accumulateGradBatches: accumulate,
      engine,
      earlyStopping: es ? createEarlyStopping(es, (m) => io.err(`warning: ${m}`)) : null,
      checkpoint: { monitor, mode: ckpt?.mode ?? 'max' },
      onlyTrainReadout: cfg.only_train_readout ?? false,
      ...(resumeState ? { resume: resumeState } : {}),
      logger: [...configLoggers, ...(options.loggers ?? [])],
      onProgress: progressRenderer(progress),
      callbacks: {
        onCheckpoint: async (ctx, best) => {
          const files = await checkpointToBytes(ctx.model, meta);
          writeCheckpointFolder(bestDir, files);
          improved = { epoch: best.epoch, files };
          if (ckpt?.verbose) io.out(`epoch ${best.epoch + 1}: ${monitor} ${best.score.toFixed(4)}, best so far: saved ${bestDir}`);
        },
        // after every epoch: the weights and the whole training state, so that `train --resume` continues from here
        // (metrics.csv after it, so that it never runs ahead of the state a resume starts from)
        onEpochEnd: async (ctx, record) => {
          // an improved epoch's weights are best/'s: nothing changes them between the two callbacks
          const files = improved?.epoch === record.epoch ? improved.files : undefined;
          improved = undefined;
          await saveLastCheckpoint(ctx.model, ctx.state(), lastDir, meta, files);
          metricsCsv.log(record);
        },
        ...(cfg.trainer.detect_anomaly
          ? {
              onBatchEnd: (_ctx, info) => {
                if (!Number.isFinite(info.loss))
                  throw new DataError(`trainer.detect_anomaly: the loss of batch ${info.batch} (session ${info.session}) is ${info.loss}.`);
              },
            }
          : {}),
      },
    }).catch(async (error: unknown) => {
      for (const l of mlflowLoggers) await l.finish('FAILED').catch(() => {});
      throw error;
    });
    for (const l of mlflowLoggers) await l.finish('FINISHED');
    // last/ holds the weights at the end of training (written after the last epoch), whatever save_last says
    const trainSeconds = (Date.now() - started) / 1000;
    const { best, stopSummary, line } = trainingOutcome(result, cfg.trainer.max_epochs, monitor, es, trainSeconds);
    io.out(line);

    const evaluations = await evaluateTestSplits(model, loaders, data, engine, {
      modelPath: join(checkpointsDir, 'final'),
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
    await saveCheckpoint(model, join(checkpointsDir, 'final'), meta);
    const epochTimes = result.history.map((h) => h.metrics.epoch_seconds ?? NaN).filter(Number.isFinite);
    const sorted = [...epochTimes].sort((a, b) => a - b);
    const metrics: Record<string, unknown> = {
      test,
      best,
      epoch_numbering:
        '0-based epoch fields, as Lightning logs them; report.html and the console count epochs from 1 (epoch N there = epoch N-1 here)',
      // what a hyper-parameter search optimises: the objective at the best checkpoint, as OpenRetina returns it
      ...(cfg.objective_target ? { objective: { target: cfg.objective_target, value: objectiveValue(result, cfg.objective_target) } } : {}),
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
      splits: reportSplits(data, evaluations, frameRate),
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
    if (cfg.objective_target) io.out(`objective ${cfg.objective_target}: ${String(objectiveValue(result, cfg.objective_target))}`);
    io.out(
      `run written to ${out} (config.yaml, metrics.json, metrics.csv, per_neuron_*.csv, report.html; checkpoints in ${checkpointsDir})`,
    );
    return { outputDir: out, metrics, result };
  } finally {
    chosen?.engine.dispose();
    model.dispose();
  }
}

/** `--config X`, or Hydra's `--config-path DIR --config-name NAME` (then groups come from DIR alone). */
export function configSource(values: Record<string, string | boolean | undefined>): { config: string; configDir?: string } | undefined {
  const name = values['config-name'] ?? values.config;
  if (typeof name !== 'string' || !name) return undefined;
  const dir = values['config-path'];
  return typeof dir !== 'string' ? { config: name } : { config: name, configDir: dir };
}

const trainOptions: OptionTable = {
  ...configOptions,
  engine: {
    ...engineOption,
    description:
      'the compute engine (or trainer.engine=...; auto, the default: ONNX Runtime when it covers the model and loss, else TF.js)',
  },
  device: { ...deviceOption, description: `${deviceOption.description} (default cpu)` },
  backend: { ...backendOption, description: `${backendOption.description} (default auto; cpu when trainer.accelerator=cpu)` },
  progress: {
    ...progressOption,
    description:
      "training progress on stderr: a bar of the epoch's batches redrawn in place, one line per epoch, or nothing (auto: a bar on a TTY, else lines)",
  },
  output: {
    type: 'string',
    placeholder: 'DIR',
    description: 'the run folder (the same as the override paths.output_dir=DIR; default hydra.run.dir)',
  },
  'report-meis': { type: 'string', placeholder: 'N', description: 'MEIs of the N best test neurons in report.html (default 3; 0: none)' },
  'demo-url': {
    type: 'string',
    placeholder: 'URL',
    description: `where report.html opens the model in the browser demo (default ${DEFAULT_DEMO_URL})`,
  },
  overwrite: {
    type: 'boolean',
    default: false,
    description: 'replace the run the output folder holds (without it such a folder is refused)',
  },
  resume: {
    type: 'string',
    placeholder: 'RUN_DIR',
    description: 'continue the run in RUN_DIR from its last/ checkpoint, with its own config.yaml',
  },
};

export const trainCommand = defineCommand({
  name: 'train',
  summary: "Train a model from an experiment config (a preset, a YAML file, or OpenRetina's config tree) with Hydra overrides",
  synopsis: [
    'openretina train --config FILE|PRESET [key=value ...] [--output DIR] [options]',
    'openretina train --config-path DIR --config-name NAME [key=value ...] [options]',
    'openretina train --resume RUN_DIR [options]',
  ],
  options: trainOptions,
  notes: [
    "Configs compose like Hydra's: defaults lists, group=option, +key=value, ++key=value, ~key, ${...} interpolations;",
    'an override given twice applies in order (the last value wins; a mapping merges into a mapping, as Hydra).',
    "Presets: `openretina presets` lists them. Overrides use OpenRetina's keys, e.g. paths.data_dir=/data/my_lab",
    'data_io.test_names=[test_movie] data_io.color_channels=2 model.hidden_channels=[16,16] trainer.max_epochs=20',
    'trainer.limit_train_batches=10 paths.output_dir=DIR.',
    'The run goes to hydra.run.dir (or paths.output_dir): config.yaml, metrics.csv, metrics.json, per_neuron_<split>.csv,',
    'evaluation_<split>.json, report.html, and the checkpoints (best, final; last with save_last) under the checkpoint dirpath.',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values: raw, overrides } = parseConfigArgs(argv, trainOptions, (line) => io.err(line));
    const overwrite = raw.overwrite === true;
    const values = raw as Record<string, string | undefined>;
    let source = configSource(values);
    let runOverrides = overrides;
    if (values.output !== undefined) {
      // --output is paths.output_dir, the folder every other writing command names with --output
      if (overrides.some((o) => /^\+{0,2}paths\.output_dir=/.test(o)))
        throw new UsageError('Give --output DIR or paths.output_dir=DIR, not both.');
      runOverrides = [...overrides, `paths.output_dir=${values.output}`];
    }
    if (values.resume !== undefined) {
      // the run's own resolved config, into its own folder: nothing else may change
      if (source || overrides.length || overwrite || values.output !== undefined)
        throw new UsageError(
          '--resume RUN_DIR continues a run with its own config.yaml: give no --config, overrides, --output or --overwrite with it.',
        );
      const dir = resolve(values.resume);
      source = { config: join(dir, 'config.yaml') };
      runOverrides = [`paths.output_dir=${dir}`];
    }
    if (!source) {
      throw new UsageError(`--config (or --config-name) is required.`);
    }
    await runTraining(source.config, runOverrides, {
      overwrite,
      resume: values.resume !== undefined,
      ...(source.configDir === undefined ? {} : { configDir: source.configDir }),
      ...(values.backend === undefined ? {} : { backend: values.backend }),
      progress: (values.progress ?? 'auto') as ProgressMode,
      ...(values.engine === undefined ? {} : { engine: values.engine }),
      ...(values.device === undefined ? {} : { device: values.device }),
      ...(values['report-meis'] === undefined ? {} : { reportMeis: intOption(values['report-meis'], 'report-meis', 0) }),
      ...(values['demo-url'] === undefined ? {} : { demoUrl: values['demo-url'] }),
      io,
    });
    return ExitCode.ok;
  },
});
