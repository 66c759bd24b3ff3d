import { join, dirname, basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import type * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@openretina/backend';
import { ConfigError } from '@openretina/contracts';
import { IncreaseObjective, OptimizationStopper, SliceMeanReducer, optimizeStimulus, videoFromTensor } from '@openretina/insilico';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { saveStimulusVisualizations } from '@openretina/insilico/node';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { chooseEngine, describeEngine, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { intOption, loadMeiModel, meiConstraints, npyInit, numberOption, randomInit, sgd, stimulusNpy } from './mei-shared.js';

export const meiCommand: Command = {
  name: 'mei',
  summary: 'Most exciting input of one model neuron (OpenRetina visualize settings), saved as .npy, SVG/PNG and GIF',
  usage:
    'openretina mei --checkpoint C --session S --neuron N [--frames 50] [--steps 10] [--lr 100] [--seed 0 | --init init.npy] ' +
    '--output mei.npy [--no-visuals] [--engine auto|onnx|tfjs] [--backend auto|wasm|cpu]\n' +
    "  --engine: auto (default) = ONNX Runtime for the model's input gradient when it covers the model, else TF.js;\n" +
    '  --backend: the TF.js backend (default auto: tfjs-node when installed, else wasm with corrected kernels).\n' +
    '  C: an OpenRetina .ckpt, a checkpoint folder, a published model name, or a Höfling low-res state_dict .safetensors.\n' +
    "  init.npy / mei.npy use OpenRetina's (1, C, T, H, W) layout; an --init stimulus is used as given, a --seed one is\n" +
    '  post-processed (norm 30, channel ranges) first. Next to mei.npy: mei.svg, mei.png (composition) and mei.gif.',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        checkpoint: { type: 'string' },
        session: { type: 'string' },
        neuron: { type: 'string' },
        frames: { type: 'string', default: '50' },
        steps: { type: 'string', default: '10' },
        lr: { type: 'string', default: '100' },
        seed: { type: 'string' },
        init: { type: 'string' },
        output: { type: 'string' },
        'no-visuals': { type: 'boolean', default: false },
        backend: { type: 'string', default: 'auto' },
        engine: { type: 'string', default: 'auto' },
      },
      strict: true,
    });
    if (!values.checkpoint || !values.output || values.neuron === undefined) {
      io.err(`--checkpoint, --neuron and --output are required.\nUsage: ${meiCommand.usage}`);
      return ExitCode.usage;
    }
    if (values.seed !== undefined && values.init !== undefined) throw new ConfigError('Give either --seed or --init, not both.');
    const neuron = intOption(values.neuron, 'neuron', 0);
    const steps = intOption(values.steps, 'steps', 0);
    const lr = numberOption(values.lr, 'lr');
    const engineChoice = parseEngineChoice(values.engine);
    const backend = await initBackend(values.backend as 'auto');
    io.out(`backend: ${backend.name}`);
    const model = await loadMeiModel(values.checkpoint);
    let chosen: ChosenEngine | undefined;
    try {
      chosen = await chooseEngine(model, engineChoice);
      io.out(describeEngine(chosen));
      const session = values.session ?? model.sessions[0]!;
      const nNeurons = model.neuronsPerSession[session];
      if (nNeurons === undefined) throw new ConfigError(`Unknown session "${session}". Sessions: ${model.sessions.join(', ')}.`);
      if (neuron >= nNeurons) throw new ConfigError(`--neuron ${neuron} is out of range: session ${session} has ${nNeurons} neurons.`);
      const { postprocessor, regularizer } = meiConstraints(model.stimulus.channels);
      let x: tf.Variable;
      if (values.init !== undefined) x = npyInit(values.init, model);
      else {
        const frames = intOption(values.frames, 'frames', model.framesCut + 1);
        x = randomInit(model.stimulusShape(frames), intOption(values.seed ?? '0', 'seed', 0), postprocessor);
      }
      const frames = x.shape[1]!;
      if (frames <= model.framesCut) throw new ConfigError(`The stimulus needs more than ${model.framesCut} frames, got ${frames}.`);
      const reducer = new SliceMeanReducer({ axis: 0, start: 10, length: 10, warn: (m) => io.err(m) });
      const objective = new IncreaseObjective(model, neuron, session, reducer);
      const optimizer = sgd(lr);
      const result = await optimizeStimulus(x, {
        optimizer,
        objective,
        stopper: new OptimizationStopper(steps),
        regularizers: regularizer,
        postprocessors: postprocessor,
        engine: chosen.engine,
        onIteration: ({ iteration, loss, objective: o }) =>
          io.out(`step ${iteration + 1}/${steps}: loss ${loss.toFixed(5)} objective ${o.toFixed(5)}`),
      });
      optimizer.dispose();
      const final = objective.forward(x as unknown as tf.Tensor5D);
      const finalObjective = (await final.data())[0]!;
      final.dispose();
      const video = videoFromTensor(x);
      x.dispose();
      writeFileAtomicSync(values.output, stimulusNpy(video));
      io.out(
        `objective ${result.objectives[0]?.toFixed(5) ?? 'n/a'} → ${finalObjective.toFixed(5)} after ${result.iterations} steps (model gradient: ${result.engine})`,
      );
      io.out(`wrote ${values.output}`);
      if (!values['no-visuals']) {
        const base = join(dirname(values.output), basename(values.output, extname(values.output)));
        const w = reducer.window(frames - model.framesCut);
        const first = model.framesCut + w.start;
        const files = saveStimulusVisualizations(base, video, {
          highlight: [[first, first + w.length - 1]],
          title: `${session} neuron ${neuron}`,
        });
        io.out(`wrote ${files.svg}, ${files.png}, ${files.gif}`);
      }
      return ExitCode.ok;
    } finally {
      chosen?.engine.dispose();
      model.dispose();
    }
  },
};
