import { basename, dirname, extname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@openretina/backend';
import { ConfigError } from '@openretina/contracts';
import { IncreaseObjective, SliceMeanReducer } from '@openretina/insilico';
import { writeFileAtomicSync, writeJsonAtomicSync } from '@openretina/formats/node';
import { saveStimulusVisualizations } from '@openretina/insilico/node';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { backendOption, checkpointOption, deviceOption, engineOption, sessionOption } from './options/common-options.js';
import { meiOptions } from './options/mei-options.js';
import { parseOptions, type OptionTable } from './options/option-table.js';
import { refuseOutputOverInput } from './run-folder.js';
import { UsageError } from './errors.js';
import { chooseEngine, describeEngine, parseDevice, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { animationOption, intOption, loadMeiModel, meiRecord, meiSettings, meiStart, npyInit, runMei, stimulusNpy } from './mei-shared.js';

const meiCommandOptions: OptionTable = {
  checkpoint: {
    ...checkpointOption,
    description:
      'the model: an OpenRetina .ckpt, a checkpoint folder, a published model name, or a Höfling low-res state_dict .safetensors',
  },
  session: { ...sessionOption, description: 'the session of the neuron (required when the model has several)' },
  neuron: { type: 'string', placeholder: 'N', description: 'the neuron (index within the session, from 0)' },
  output: { type: 'string', placeholder: 'FILE', description: 'the MEI .npy to write; the figures go next to it' },
  ...meiOptions,
  'no-visuals': { type: 'boolean', default: false, description: 'write only the .npy and .json (no SVG, PNG or animation)' },
  backend: { ...backendOption, default: 'auto' },
  engine: {
    ...engineOption,
    default: 'auto',
    description: "the engine of the model's input gradient (auto: ONNX Runtime when it covers the model, else TF.js)",
  },
  device: { ...deviceOption, default: 'cpu' },
};

export const meiCommand = defineCommand({
  name: 'mei',
  summary: 'Most exciting input of one model neuron, run until the objective settles; .npy, SVG/PNG, GIF/MP4 and the objective curve',
  synopsis: ['openretina mei --checkpoint C [--session S] --neuron N --output mei.npy [options]'],
  options: meiCommandOptions,
  notes: [
    'A warning says when the step cap was hit or the objective barely moved (the MEI is then probably noise).',
    "mei.npy uses OpenRetina's (1, C, T, H, W) layout; an --init stimulus is used as given, a --seed one is",
    'post-processed (norm 30, channel ranges) first. Next to mei.npy: mei.svg and mei.png (the same figure: traces,',
    'spectrum, spatial maps with a colour scale and a 50 µm bar), mei.gif (or mei.mp4 with --animation mp4 and ffmpeg',
    'on PATH) with labelled frames, mei_objective.svg (objective per step) and mei.json (settings, objectives, verdict).',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const parsed = parseOptions(meiCommandOptions, argv, { warn: (line) => io.err(line) });
    const values = parsed.values as Record<string, string | undefined>;
    if (!values.checkpoint || !values.output || values.neuron === undefined) {
      throw new UsageError(`--checkpoint, --neuron and --output are required.`);
    }
    if (values.seed !== undefined && values.init !== undefined) throw new UsageError('Give either --seed or --init, not both.');
    refuseOutputOverInput(values.output, { '--init': values.init, '--checkpoint': values.checkpoint });
    const neuron = intOption(values.neuron, 'neuron', 0);
    const settings = meiSettings(values);
    const animation = animationOption(values.animation);
    const engineChoice = parseEngineChoice(values.engine);
    const backend = await initBackend(values.backend as 'auto');
    io.out(`backend: ${backend.name}`);
    const model = await loadMeiModel(values.checkpoint);
    let chosen: ChosenEngine | undefined;
    try {
      chosen = await chooseEngine(model, engineChoice, { device: parseDevice(values.device) });
      io.out(describeEngine(chosen));
      if (values.session === undefined && model.sessions.length > 1)
        throw new UsageError(`--session is required: the model has ${model.sessions.length} sessions (${model.sessions.join(', ')}).`);
      const session = values.session ?? model.sessions[0]!;
      const nNeurons = model.neuronsPerSession[session];
      if (nNeurons === undefined) throw new ConfigError(`Unknown session "${session}". Sessions: ${model.sessions.join(', ')}.`);
      if (neuron >= nNeurons) throw new ConfigError(`--neuron ${neuron} is out of range: session ${session} has ${nNeurons} neurons.`);
      const channels = model.stimulus.channels;
      let x: tf.Variable;
      if (values.init !== undefined) x = npyInit(values.init, model);
      else {
        const frames = intOption(values.frames ?? String(settings.frames), 'frames', model.framesCut + 1);
        x = meiStart(model.stimulusShape(frames), intOption(values.seed ?? '0', 'seed', 0), channels, settings);
      }
      const frames = x.shape[1]!;
      if (frames <= model.framesCut) {
        x.dispose();
        throw new ConfigError(
          `The stimulus needs at least ${model.framesCut + 1} frames (the model cuts ${model.framesCut}), got ${frames}.`,
        );
      }
      const reducer = new SliceMeanReducer({ ...settings.window, axis: 0, warn: (m) => io.err(m) });
      const objective = new IncreaseObjective(model, neuron, session, reducer);
      io.out(`preset ${settings.name}: SGD lr ${settings.lr}, at most ${settings.maxSteps} steps`);
      const run = await runMei(x, objective, settings, {
        channels,
        engine: chosen.engine,
        onIteration: ({ iteration, loss, objective: o }) => {
          // every step of a short run, every 10th of a long one
          if (settings.maxSteps <= 20 || (iteration + 1) % 10 === 0 || iteration === 0)
            io.out(`step ${iteration + 1}/${settings.maxSteps}: loss ${loss.toFixed(5)} objective ${o.toFixed(5)}`);
        },
      });
      const { verdict } = run;
      writeFileAtomicSync(values.output, stimulusNpy(run.video));
      io.out(
        `objective ${verdict.objectiveStart.toFixed(5)} → ${verdict.objectiveEnd.toFixed(5)} after ${run.result.iterations} steps: ${verdict.converged ? 'converged' : 'not converged'} (model gradient: ${run.result.engine})`,
      );
      for (const w of verdict.warnings) io.err(`warning: ${session} neuron ${neuron}: ${w}`);
      io.out(`wrote ${values.output}`);
      const base = join(dirname(values.output), basename(values.output, extname(values.output)));
      writeJsonAtomicSync(`${base}.json`, meiRecord(run, settings, { session, neuron, frames, checkpoint: values.checkpoint }));
      if (parsed.values['no-visuals'] !== true) {
        const w = reducer.window(frames - model.framesCut);
        const first = model.framesCut + w.start;
        const files = await saveStimulusVisualizations(base, run.video, {
          highlight: [[first, first + w.length - 1]],
          title: `${session} · neuron ${neuron}`,
          subtitle: `MEI (${settings.name} preset): objective ${verdict.objectiveStart.toFixed(3)} → ${verdict.objectiveEnd.toFixed(3)} in ${run.result.iterations} steps, ${verdict.converged ? 'converged' : 'NOT converged'}`,
          animation,
          objectives: run.result.objectives,
          objectiveCurve: { converged: verdict.converged, maxIterations: settings.maxSteps },
        });
        if (animation === 'mp4' && files.animation.endsWith('.gif'))
          io.err('warning: ffmpeg is not on PATH: wrote a GIF instead of an MP4.');
        io.out(`wrote ${[files.svg, files.png, files.animation, files.objective, `${base}.json`].filter(Boolean).join(', ')}`);
      } else io.out(`wrote ${base}.json`);
      return ExitCode.ok;
    } finally {
      chosen?.engine.dispose();
      model.dispose();
    }
  },
});
