import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initBackend } from '@openretina/backend';
import { ConfigError } from '@openretina/contracts';
import { loadCoreReadout } from '@openretina/hub/node';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { writeJsonReport } from '@openretina/trainer/node';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { chooseEngine, describeEngine, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import {
  evaluateLoaderSplit,
  evaluateTestSplits,
  formatSummaries,
  testSection,
  writeEvaluationFiles,
  type SplitEvaluation,
} from './evaluate-splits.js';
import {
  checkSessionsMatch,
  experimentDataInfo,
  loadExperimentConfig,
  loadExperimentData,
  makeDataloaders,
  resolveDataDir,
} from './experiment.js';
import { parseConfigArgs } from './train-command.js';
import { cliDownloadOptions } from './download-progress.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate a trained model on the test (or training, validation) splits of an experiment (per-neuron CSV, JSON, summary)',
  usage:
    'openretina eval --checkpoint C --config FILE|PRESET [key=value ...] --output DIR [--split test|train|validation|<test name>] [--var-ratio-cutoff 0.15] [--engine auto|onnx|tfjs] [--backend auto|wasm|cpu]\n' +
    '  --split (or evaluation.data_split=...): test (default) = every test split; train or validation = those loaders,\n' +
    '  each clip against its own targets; or one test split by name\n' +
    '  --engine (or trainer.engine=...): auto (default) = ONNX Runtime for the predictions when it covers the model, else TF.js\n' +
    '  C: an @openretina checkpoint folder, an OpenRetina .ckpt or a published model name; the data come from the\n' +
    '  config (paths.data_dir, data_io.*, dataloader.*). Writes DIR/per_neuron_<split>.csv, evaluation_<split>.json,\n' +
    '  summary.txt and metrics.json ({"test": {"<split>": {"correlation": ...}}}; "train" or "validation" for those).',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, overrides } = parseConfigArgs(argv, {
      checkpoint: { type: 'string' },
      output: { type: 'string' },
      'var-ratio-cutoff': { type: 'string' },
      split: { type: 'string' },
    });
    if (!values.checkpoint || !values.config || !values.output) {
      io.err(`--checkpoint, --config and --output are required.\nUsage: ${evalCommand.usage}`);
      return ExitCode.usage;
    }
    const cutoff = values['var-ratio-cutoff'] === undefined ? 0.15 : Number(values['var-ratio-cutoff']);
    if (!Number.isFinite(cutoff)) throw new ConfigError(`--var-ratio-cutoff must be a number, got "${values['var-ratio-cutoff']}".`);
    const out = resolve(values.output);
    const { cfg } = loadExperimentConfig(values.config, [
      ...overrides,
      ...(overrides.some((o) => o.startsWith('paths.output_dir=')) ? [] : [`paths.output_dir=${out}`]),
    ]);
    const configuredSplit = (cfg.evaluation as { data_split?: unknown } | undefined)?.data_split;
    const split = values.split ?? (typeof configuredSplit === 'string' ? configuredSplit : 'test');
    const backend = await initBackend((values.backend ?? 'auto') as 'auto');
    io.out(`backend: ${backend.name} (${backend.reason})`);
    const data = await loadExperimentData(cfg);
    const kind = split === 'train' || split === 'validation' ? split : 'test';
    // "test" is every test split (OpenRetina's loaders name a single one "test"); another name is one test split.
    const testSplits = split === 'test' && !data.testNames.includes('test') ? data.testNames : [split];
    if (kind === 'test' && !testSplits.every((s) => data.testNames.includes(s))) {
      throw new ConfigError(`Unknown split "${split}": expected test, train, validation or a test split (${data.testNames.join(', ')}).`);
    }
    experimentDataInfo(cfg, data, (m) => io.err(`warning: ${m}`));
    const engineChoice = parseEngineChoice(
      values.engine ?? cfg.trainer.engine ?? 'auto',
      values.engine === undefined ? 'trainer.engine' : '--engine',
    );
    const model = await loadCoreReadout(values.checkpoint, cliDownloadOptions());
    let chosen: ChosenEngine | undefined;
    try {
      checkSessionsMatch(model, Object.keys(data.responses), values.checkpoint);
      const { channels, height, width } = model.stimulus;
      const first = Object.values(data.movies)[0]!.train.shape;
      if (channels !== first[3] || height !== first[1] || width !== first[2]) {
        throw new ConfigError(
          `The model takes [C, H, W] = [${channels}, ${height}, ${width}], the data at ${resolveDataDir(cfg.paths.data_dir)} has [${first[3]}, ${first[1]}, ${first[2]}].`,
        );
      }
      const loaders = makeDataloaders(cfg, data);
      chosen = await chooseEngine(model, engineChoice);
      io.out(describeEngine(chosen));
      const splitOptions = { varRatioCutoff: cutoff, modelPath: values.checkpoint, expName: cfg.exp_name };
      const evaluations: SplitEvaluation[] =
        kind === 'test'
          ? await evaluateTestSplits(model, loaders, data, chosen.engine, { ...splitOptions, splits: testSplits })
          : [await evaluateLoaderSplit(model, loaders, kind, data, chosen.engine, splitOptions)];
      mkdirSync(out, { recursive: true });
      writeEvaluationFiles(out, evaluations);
      const summary = formatSummaries(evaluations);
      writeFileAtomicSync(join(out, 'summary.txt'), `${summary}\n`);
      writeJsonReport(join(out, 'metrics.json'), {
        [kind]: testSection(evaluations),
        checkpoint: values.checkpoint,
        config: values.config,
        overrides,
        var_ratio_cutoff: cutoff,
        engine: chosen.name,
      });
      io.out(summary);
      for (const e of evaluations)
        io.out(`${kind} correlation (${e.split}): ${e.metrics.correlation!.toFixed(4)} over ${e.metrics.n_neurons} neurons`);
      io.out(`wrote ${out} (metrics.json, summary.txt, per_neuron_*.csv, evaluation_*.json)`);
    } finally {
      chosen?.engine.dispose();
      model.dispose();
    }
    return ExitCode.ok;
  },
};
