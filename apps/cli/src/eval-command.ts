import { mkdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { initBackend } from '@openretina/backend';
import { ConfigError } from '@openretina/contracts';
import { loadCoreReadout } from '@openretina/hub/node';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { writeCsvReport, writeJsonReport } from '@openretina/trainer/node';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { backendOption, checkpointOption, configOptions, deviceOption, engineOption, progressOption } from './options/common-options.js';
import type { OptionTable } from './options/option-table.js';
import { evaluationProgressRenderer, type ProgressMode } from './progress.js';
import { UsageError } from './errors.js';
import { chooseEngine, describeEngine, parseDevice, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import {
  evaluateLoaderSplit,
  evaluateTestSplits,
  formatSummaries,
  testSection,
  writeEvaluationFiles,
  type SplitEvaluation,
} from './evaluate-splits.js';
import { resolveDataDir } from './data-path.js';
import { loadExperimentConfig } from './experiment-config.js';
import { experimentDataInfo, withExperimentData } from './experiment-data.js';
import { assertFiniteData, assertFiniteWeights } from './finite-inputs.js';
import { experimentLoaders } from './experiment-loaders.js';
import { checkSessionsMatch } from './model-construction.js';
import { evaluationFolder } from './run-folder.js';
import { configSource, parseConfigArgs } from './train-command.js';
import { cliDownloadOptions } from './download-progress.js';

/** The test splits of OpenRetina's `evaluation.data_split`: `test` (every test stimulus) or one test stimulus by name. */
function evaluationSplits(split: string | undefined, testNames: readonly string[]): string[] {
  if (split === undefined || split === 'test') return [...testNames];
  if (testNames.includes(split)) return [split];
  throw new ConfigError(`Unknown split "${split}": expected test, train, validation or a test split (${testNames.join(', ')}).`);
}

/** `results.csv` → `results_<split>.csv`. */
function suffixed(path: string, split: string): string {
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}_${split}${ext}`;
}

const evalOptions: OptionTable = {
  checkpoint: { ...checkpointOption, description: `${checkpointOption.description} (or evaluation.model_path)` },
  ...configOptions,
  output: { type: 'string', placeholder: 'DIR', description: 'the folder to write (a training run folder: its evaluation/ subfolder)' },
  split: {
    type: 'string',
    placeholder: 'SPLIT',
    description:
      'test (default: every test split), train, validation (those loaders, each clip against its own targets) or one test split by name; or evaluation.data_split=...',
  },
  'var-ratio-cutoff': { type: 'string', placeholder: 'X', description: 'the variance-ratio cutoff of the filtered summary (default 0.15)' },
  engine: {
    ...engineOption,
    description:
      'the engine of the predictions (or trainer.engine=...; auto, the default: ONNX Runtime when it covers the model, else TF.js)',
  },
  device: { ...deviceOption, description: `${deviceOption.description} (default cpu)` },
  backend: { ...backendOption, description: `${backendOption.description} (default auto; cpu when trainer.accelerator=cpu)` },
  progress: {
    ...progressOption,
    description:
      "evaluation progress on stderr: a bar of each split's predicted batches, one line per split, or nothing (auto: a bar on a TTY, else lines)",
  },
};

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'Evaluate a trained model on the test (or training, validation) splits of an experiment (per-neuron CSV, JSON, summary)',
  synopsis: [
    'openretina eval --checkpoint C --config FILE|PRESET [key=value ...] --output DIR [options]',
    'openretina eval --checkpoint C --config-path DIR --config-name NAME [key=value ...] --output DIR [options]',
  ],
  options: evalOptions,
  notes: [
    'An evaluation section (e.g. +evaluation=default) is honoured: model_path (for --checkpoint), model_tag, data_split,',
    'var_ratio_cutoff, model_results_path (per-neuron CSV) and summary_results_path (summary JSON).',
    'The data come from the config (paths.data_dir, data_io.*, dataloader.*). Writes DIR/per_neuron_<split>.csv,',
    'evaluation_<split>.json, summary.txt and metrics.json ({"test": {"<split>": {"correlation": ...}}}; "train" or',
    '"validation" for those).',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values: raw, overrides } = parseConfigArgs(argv, evalOptions, (line) => io.err(line));
    const values = raw as Record<string, string | undefined>;
    const source = configSource(values);
    if (!source || !values.output) {
      throw new UsageError(`--config (or --config-name) and --output are required.`);
    }
    // next to a training run, never over its files: `--output RUN_DIR` writes RUN_DIR/evaluation
    const output = values.output;
    const out = evaluationFolder(resolve(output));
    const { cfg } = loadExperimentConfig(
      source.config,
      [...overrides, ...(overrides.some((o) => o.startsWith('paths.output_dir=')) ? [] : [`paths.output_dir=${out}`])],
      source.configDir === undefined ? {} : { configDir: source.configDir },
    );
    const evaluation = cfg.evaluation ?? {};
    const checkpoint = values.checkpoint ?? (evaluation.model_path && evaluation.model_path !== '???' ? evaluation.model_path : undefined);
    if (!checkpoint) {
      throw new UsageError(`--checkpoint (or evaluation.model_path) is required.`);
    }
    const cutoff = values['var-ratio-cutoff'] === undefined ? (evaluation.var_ratio_cutoff ?? 0.15) : Number(values['var-ratio-cutoff']);
    if (!Number.isFinite(cutoff)) throw new ConfigError(`--var-ratio-cutoff must be a number, got "${values['var-ratio-cutoff']}".`);
    const backend = await initBackend((values.backend ?? (cfg.trainer.accelerator === 'cpu' ? 'cpu' : 'auto')) as 'auto');
    const split = values.split ?? evaluation.data_split ?? 'test';
    const kind = split === 'train' || split === 'validation' ? split : 'test';
    io.out(`backend: ${backend.name} (${backend.reason})`);
    await withExperimentData(
      cfg,
      () => {},
      (m) => io.err(`warning: ${m}`),
      async (data) => {
        // Checked before the model loads: an unknown split name fails fast.
        const testSplits = kind === 'test' ? evaluationSplits(split, data.testNames) : [];
        assertFiniteData(data, resolveDataDir(String(cfg.paths.data_dir)));
        experimentDataInfo(cfg, data, (m) => io.err(`warning: ${m}`));
        const engineChoice = parseEngineChoice(
          values.engine ?? cfg.trainer.engine ?? 'auto',
          values.engine === undefined ? 'trainer.engine' : '--engine',
        );
        const model = await loadCoreReadout(checkpoint, cliDownloadOptions());
        let chosen: ChosenEngine | undefined;
        try {
          assertFiniteWeights(model, checkpoint);
          checkSessionsMatch(model, Object.keys(data.responses), checkpoint);
          const { channels, height, width } = model.stimulus;
          const first = Object.values(data.movies)[0]!.train.shape;
          if (channels !== first[3] || height !== first[1] || width !== first[2]) {
            throw new ConfigError(
              `The model takes [C, H, W] = [${channels}, ${height}, ${width}], the data at ${resolveDataDir(String(cfg.paths.data_dir))} has [${first[3]}, ${first[1]}, ${first[2]}].`,
            );
          }
          const { loaders, data: loaded } = await experimentLoaders(cfg, data, (m) => io.err(`warning: ${m}`));
          chosen = await chooseEngine(model, engineChoice, { device: parseDevice(values.device) });
          io.out(describeEngine(chosen));
          const splitOptions = { varRatioCutoff: cutoff, modelPath: checkpoint, expName: cfg.exp_name };
          // the predictions counted per split for --progress (the same modes as train's)
          const progress = evaluationProgressRenderer((values.progress ?? 'auto') as ProgressMode);
          const engine = chosen.engine;
          const counted = {
            predict: async (...args: Parameters<typeof engine.predict>) => {
              const y = await engine.predict(...args);
              progress.batchEnd();
              return y;
            },
          };
          const names = kind === 'test' ? testSplits : [kind];
          const evaluations: SplitEvaluation[] = [];
          for (const [i, name] of names.entries()) {
            progress.startSplit(name, i, names.length);
            if (kind === 'test')
              evaluations.push(...(await evaluateTestSplits(model, loaders, loaded, counted, { ...splitOptions, splits: [name] })));
            else evaluations.push(await evaluateLoaderSplit(model, loaders, kind, loaded, counted, splitOptions));
            progress.endSplit();
          }
          mkdirSync(out, { recursive: true });
          writeEvaluationFiles(out, evaluations);
          const modelTag = evaluation.model_tag ?? checkpoint;
          if (evaluation.model_results_path) {
            for (const e of evaluations) {
              const path = evaluations.length === 1 ? evaluation.model_results_path : suffixed(evaluation.model_results_path, e.split);
              writeCsvReport(resolve(path), e.rows);
              io.out(`per-neuron results (${e.split}): ${path}`);
            }
          }
          if (evaluation.summary_results_path) {
            writeJsonReport(resolve(evaluation.summary_results_path), {
              model_path: checkpoint,
              model_tag: modelTag,
              var_ratio_cutoff: cutoff,
              splits: Object.fromEntries(evaluations.map((e) => [e.split, { ...e.summary, metrics: e.metrics }])),
            });
            io.out(`summary: ${evaluation.summary_results_path}`);
          }
          const summary = formatSummaries(evaluations);
          writeFileAtomicSync(join(out, 'summary.txt'), `${summary}\n`);
          writeJsonReport(join(out, 'metrics.json'), {
            [kind]: testSection(evaluations),
            checkpoint,
            model_tag: modelTag,
            config: source.config,
            overrides,
            var_ratio_cutoff: cutoff,
            engine: chosen.name,
          });
          io.out(summary);
          for (const e of evaluations)
            io.out(`${kind} correlation (${e.split}): ${e.metrics.correlation!.toFixed(4)} over ${e.metrics.n_neurons} neurons`);
          if (out !== resolve(output)) io.out(`${output} holds a training run: the evaluation goes to ${out}`);
          io.out(`wrote ${out} (metrics.json, summary.txt, per_neuron_*.csv, evaluation_*.json)`);
        } finally {
          chosen?.engine.dispose();
          model.dispose();
        }
      },
    );
    return ExitCode.ok;
  },
});
