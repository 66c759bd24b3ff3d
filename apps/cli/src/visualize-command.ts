import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@openretina/backend';
import { ConfigError } from '@openretina/contracts';
import {
  IncreaseObjective,
  InnerNeuronVisualizationObjective,
  OptimizationStopper,
  SliceMeanReducer,
  optimizeStimulus,
  videoFromTensor,
  type StimulusObjective,
} from '@openretina/insilico';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { saveStimulusVisualizations } from '@openretina/insilico/node';
import type { CoreReadout } from '@openretina/models';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { chooseEngine, describeEngine, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { intOption, loadMeiModel, meiConstraints, randomInit, sgd, stimulusNpy } from './mei-shared.js';

export const visualizeCommand: Command = {
  name: 'visualize',
  summary: 'MEIs of every inner channel and every model neuron: images (SVG/PNG), GIFs and .npy stimuli in a folder',
  usage:
    'openretina visualize --checkpoint C --save-folder DIR [--frames 50] [--steps 10] [--seed 0] [--session S] ' +
    '[--max-channels N] [--max-neurons N] [--engine auto|onnx|tfjs] [--backend auto|wasm|cpu]\n' +
    "  --engine: auto (default) = ONNX Runtime for the model's input gradient when it covers the model, else TF.js;\n" +
    '  --backend: the TF.js backend (default auto: tfjs-node when installed, else wasm with corrected kernels).\n' +
    '  Writes DIR/<layer>/<channel>.{npy,svg,png,gif} for layer0, layer1, … and DIR/output_neurons/<session>/<neuron>.*',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        checkpoint: { type: 'string' },
        'model-path': { type: 'string' },
        'save-folder': { type: 'string' },
        frames: { type: 'string', default: '50' },
        'time-steps-stimulus': { type: 'string' },
        steps: { type: 'string', default: '10' },
        seed: { type: 'string', default: '0' },
        session: { type: 'string' },
        'max-channels': { type: 'string' },
        'max-neurons': { type: 'string' },
        backend: { type: 'string', default: 'auto' },
        engine: { type: 'string', default: 'auto' },
      },
      strict: true,
    });
    const checkpoint = values.checkpoint ?? values['model-path'];
    const folder = values['save-folder'];
    if (!checkpoint || !folder) {
      io.err(`--checkpoint and --save-folder are required.\nUsage: ${visualizeCommand.usage}`);
      return ExitCode.usage;
    }
    const steps = intOption(values.steps, 'steps', 0);
    let seed = intOption(values.seed, 'seed', 0);
    const maxChannels = values['max-channels'] === undefined ? Infinity : intOption(values['max-channels'], 'max-channels', 0);
    const maxNeurons = values['max-neurons'] === undefined ? Infinity : intOption(values['max-neurons'], 'max-neurons', 0);
    const engineChoice = parseEngineChoice(values.engine);
    const backend = await initBackend(values.backend as 'auto');
    io.out(`backend: ${backend.name}`);
    const model: CoreReadout = await loadMeiModel(checkpoint);
    let chosen: ChosenEngine | undefined;
    try {
      chosen = await chooseEngine(model, engineChoice);
      io.out(`${describeEngine(chosen)}; inner-channel objectives run on TF.js`);
      const engine = chosen.engine;
      const frames = intOption(values['time-steps-stimulus'] ?? values.frames, 'frames', model.framesCut + 1);
      const shape = model.stimulusShape(frames);
      const { postprocessor, regularizer } = meiConstraints(model.stimulus.channels);
      const sessions = values.session ? [values.session] : [...model.sessions];
      for (const s of sessions)
        if (!model.sessions.includes(s)) throw new ConfigError(`Unknown session "${s}". Sessions: ${model.sessions.join(', ')}.`);
      const run = async (objective: StimulusObjective, base: string, highlight: [number, number]) => {
        const x = randomInit(shape, seed++, postprocessor);
        const optimizer = sgd(100);
        const r = await optimizeStimulus(x, {
          optimizer,
          objective,
          stopper: new OptimizationStopper(steps),
          regularizers: regularizer,
          postprocessors: postprocessor,
          engine,
        });
        optimizer.dispose();
        const video = videoFromTensor(x);
        x.dispose();
        writeFileAtomicSync(`${base}.npy`, stimulusNpy(video));
        saveStimulusVisualizations(base, video, { highlight: [highlight] });
        io.out(
          `${base}: objective ${r.objectives[0]?.toFixed(4) ?? 'n/a'} → last step ${r.objectives[r.objectives.length - 1]?.toFixed(4) ?? 'n/a'}`,
        );
      };
      // inner channels: the centre unit of each block output, the last 10 output frames of that layer
      const reducer = new SliceMeanReducer({ axis: 0, start: 10, length: 10, warn: (m) => io.err(m) });
      const inner = new InnerNeuronVisualizationObjective(model, sessions[0], reducer);
      const layers = inner.blockNames();
      io.out(`Generating MEIs for the layers: ${layers.join(', ')}`);
      for (const layer of layers) {
        const outShape = inner.getOutputShapeForLayer(layer, shape);
        if (!outShape) continue;
        const [, tLayer, , , channels] = outShape as [number, number, number, number, number];
        reducer.start = tLayer - reducer.length;
        for (let ch = 0; ch < Math.min(channels, maxChannels); ch++) {
          inner.setLayerChannel(layer, ch);
          const w = reducer.window(tLayer);
          const first = frames - tLayer + w.start;
          await run(inner, join(folder, layer, String(ch)), [first, first + w.length - 1]);
        }
      }
      // output neurons
      const outReducer = new SliceMeanReducer({ axis: 0, start: 10, length: 10, warn: (m) => io.err(m) });
      for (const session of sessions) {
        const n = model.neuronsPerSession[session]!;
        for (let neuron = 0; neuron < Math.min(n, maxNeurons); neuron++) {
          const objective = new IncreaseObjective(model, neuron, session, outReducer);
          const w = outReducer.window(frames - model.framesCut);
          const first = model.framesCut + w.start;
          await run(objective, join(folder, 'output_neurons', session, String(neuron)), [first, first + w.length - 1]);
        }
      }
      io.out(`wrote MEIs to ${folder}`);
      return ExitCode.ok;
    } finally {
      chosen?.engine.dispose();
      model.dispose();
    }
  },
};
