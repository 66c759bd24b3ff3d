import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@openretina/backend';
import { ConfigError } from '@openretina/contracts';
import { MOVING_BAR_DIRECTIONS, movingBarStimulus, movingBarSweepFrames } from '@openretina/data-io';
import { writeFileAtomicSync, writeJsonAtomicSync } from '@openretina/formats/node';
import {
  IncreaseObjective,
  InnerNeuronVisualizationObjective,
  SliceMeanReducer,
  coreWeights,
  directionTuning,
  directionTuningSvg,
  layerWeightsSvg,
  readoutMasks,
  readoutMasksSvg,
  roiFrameSvgs,
  type StimulusObjective,
} from '@openretina/insilico';
import { saveStimulusVisualizations } from '@openretina/insilico/node';
import type { CoreReadout } from '@openretina/models';
import { encodeGif } from '@openretina/plot';
import { encodeMp4, findFfmpeg, svgToPng, svgToRgba } from '@openretina/plot/node';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { backendOption, checkpointOption, engineOption, sessionOption } from './options/common-options.js';
import { meiOptions } from './options/mei-options.js';
import { parseOptions, type OptionTable } from './options/option-table.js';
import { UsageError } from './errors.js';
import { chooseEngine, describeEngine, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { animationOption, intOption, loadMeiModel, meiRecord, meiSettings, meiStart, npyInit, runMei, stimulusNpy } from './mei-shared.js';
import { renderGallery, type GalleryInput, type GalleryMei } from './visualize-gallery.js';

const FRAME_RATE = 30;

const visualizeOptions: OptionTable = {
  checkpoint: {
    ...checkpointOption,
    description:
      'the model: an OpenRetina .ckpt, a checkpoint folder, a published model name, or a Höfling low-res state_dict .safetensors',
    deprecated: ['model-path'],
  },
  output: { type: 'string', placeholder: 'DIR', description: 'the gallery folder', deprecated: ['save-folder'] },
  ...meiOptions,
  frames: { ...meiOptions.frames, deprecated: ['time-steps-stimulus'] },
  session: { ...sessionOption, description: 'only this session (default every session)' },
  'max-channels': {
    type: 'string',
    placeholder: 'N',
    description: 'MEIs of at most N channels per inner layer (default all; 0: no inner-channel MEIs)',
  },
  'max-neurons': { type: 'string', placeholder: 'N', description: 'MEIs of at most N neurons per session (default all; 0: none)' },
  backend: { ...backendOption, default: 'auto' },
  engine: {
    ...engineOption,
    default: 'auto',
    description: "the engine of the model's input gradient (auto: ONNX Runtime when it covers the model, else TF.js)",
  },
};

export const visualizeCommand = defineCommand({
  name: 'visualize',
  summary:
    'A gallery (index.html) of a model: weights of every layer and readout, direction tuning, ROI animations, MEIs of inner channels and neurons',
  synopsis: ['openretina visualize --checkpoint C --output DIR [options]'],
  options: visualizeOptions,
  notes: [
    'Inner-channel objectives run on TF.js. Every MEI starts from --init when given, else from a random start (seed',
    '--seed, then +1 per MEI).',
    'Writes DIR/index.html (the gallery), DIR/weights/<layer>.{svg,png} and readout_<session>.{svg,png},',
    'DIR/direction_tuning/<session>.{svg,png}, DIR/roi/<session>.{gif|mp4} (moving-bar responses at the readout positions),',
    'DIR/<layer>/<channel>.* and DIR/output_neurons/<session>/<neuron>.* ({npy,svg,png,gif|mp4,json}, _objective.svg).',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const values = parseOptions(visualizeOptions, argv, { warn: (line) => io.err(line) }).values as Record<string, string | undefined>;
    const checkpoint = values.checkpoint;
    const folder = values.output;
    if (!checkpoint || !folder) {
      throw new UsageError(`--checkpoint and --output are required.`);
    }
    if (values.seed !== undefined && values.init !== undefined) throw new UsageError('Give either --seed or --init, not both.');
    const settings = meiSettings(values);
    const animation = animationOption(values.animation);
    if (animation === 'mp4' && !findFfmpeg()) io.err('warning: ffmpeg is not on PATH: animations are written as GIFs.');
    let seed = intOption(values.seed ?? '0', 'seed', 0);
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
      // an --init stimulus is every MEI's start (read, checked against the model, per MEI); its length sets the frames
      const init = values.init;
      const initStart = init === undefined ? undefined : () => npyInit(init, model);
      const frames = initStart
        ? initFrames(initStart(), model.framesCut)
        : intOption(values.frames ?? String(settings.frames), 'frames', model.framesCut + 1);
      const shape = model.stimulusShape(frames);
      const channels = model.stimulus.channels;
      const sessions = values.session ? [values.session] : [...model.sessions];
      for (const s of sessions)
        if (!model.sessions.includes(s)) throw new ConfigError(`Unknown session "${s}". Sessions: ${model.sessions.join(', ')}.`);
      mkdirSync(folder, { recursive: true });
      const gallery: GalleryInput = {
        title: `openretina visualize: ${checkpoint}`,
        notes: [
          `MEIs: preset ${settings.name} (SGD lr ${settings.lr}, at most ${settings.maxSteps} steps${settings.patience > 0 ? `, stop when the objective changes by ≤ ${settings.relativeTolerance} relative on ${settings.patience} steps in a row` : ''}), ${frames} frames, objective = mean response over output frames ${settings.window.start}–${settings.window.start + settings.window.length - 1}`,
          `model: ${model.sessions.map((s) => `${s} ${model.neuronsPerSession[s]} neurons`).join(', ')}; input ${channels} channels ${model.stimulus.height}×${model.stimulus.width}, ${model.framesCut + 1} frames per output frame`,
        ],
        figures: [],
        animations: [],
        groups: [],
      };
      const saveFigure = (svg: string, base: string, caption: string) => {
        mkdirSync(join(base, '..'), { recursive: true });
        writeFileAtomicSync(`${base}.svg`, svg);
        writeFileAtomicSync(`${base}.png`, svgToPng(svg));
        gallery.figures.push({ caption, svg: `${relative(folder, base)}.svg`, png: `${relative(folder, base)}.png` });
      };
      await modelFigures(model, sessions, folder, saveFigure, gallery, animation);
      io.out(`wrote the weight, readout and tuning figures to ${folder}`);

      const meiFiles = async (
        objective: StimulusObjective,
        base: string,
        label: string,
        highlight: [number, number],
        extra: Record<string, unknown>,
      ) => {
        const x = initStart ? initStart() : meiStart(shape, seed++, channels, settings);
        const run = await runMei(x, objective, settings, { channels, engine });
        mkdirSync(join(base, '..'), { recursive: true });
        writeFileAtomicSync(`${base}.npy`, stimulusNpy(run.video));
        writeJsonAtomicSync(`${base}.json`, meiRecord(run, settings, extra));
        const { verdict } = run;
        const files = await saveStimulusVisualizations(base, run.video, {
          highlight: [highlight],
          title: label,
          subtitle: `MEI (${settings.name} preset): objective ${verdict.objectiveStart.toFixed(3)} → ${verdict.objectiveEnd.toFixed(3)} in ${run.result.iterations} steps, ${verdict.converged ? 'converged' : 'NOT converged'}`,
          animation,
          objectives: run.result.objectives,
          objectiveCurve: { converged: verdict.converged, maxIterations: settings.maxSteps },
        });
        for (const w of verdict.warnings) io.err(`warning: ${label}: ${w}`);
        io.out(
          `${base}: objective ${verdict.objectiveStart.toFixed(4)} → ${verdict.objectiveEnd.toFixed(4)} in ${run.result.iterations} steps (${verdict.converged ? 'converged' : 'not converged'})`,
        );
        const mei: GalleryMei = {
          base: relative(folder, base),
          label,
          objectiveStart: verdict.objectiveStart,
          objectiveEnd: verdict.objectiveEnd,
          iterations: run.result.iterations,
          converged: verdict.converged,
          warnings: verdict.warnings,
          animation: relative(folder, files.animation || `${base}.svg`),
        };
        return mei;
      };
      // inner channels: the centre unit of each block output, the last output frames of that layer
      const reducer = new SliceMeanReducer({ axis: 0, ...settings.window, warn: (m) => io.err(m) });
      const inner = new InnerNeuronVisualizationObjective(model, sessions[0], reducer);
      const layers = maxChannels > 0 ? inner.blockNames() : [];
      io.out(
        layers.length > 0
          ? `Generating MEIs for the layers: ${layers.join(', ')}`
          : 'inner-channel MEIs are off (--max-channels 0); weight plots of every layer are written',
      );
      for (const layer of layers) {
        const outShape = inner.getOutputShapeForLayer(layer, shape);
        if (!outShape) continue;
        const [, tLayer, , , nChannels] = outShape as [number, number, number, number, number];
        reducer.start = tLayer - reducer.length;
        const meis: GalleryMei[] = [];
        for (let ch = 0; ch < Math.min(nChannels, maxChannels); ch++) {
          inner.setLayerChannel(layer, ch);
          const w = reducer.window(tLayer);
          const first = frames - tLayer + w.start;
          meis.push(
            await meiFiles(inner, join(folder, layer, String(ch)), `${layer} · channel ${ch}`, [first, first + w.length - 1], {
              layer,
              channel: ch,
            }),
          );
        }
        gallery.groups.push({ title: `Inner channels: ${layer} (centre unit)`, meis });
      }
      // output neurons
      const outReducer = new SliceMeanReducer({ axis: 0, ...settings.window, warn: (m) => io.err(m) });
      for (const session of sessions) {
        const n = model.neuronsPerSession[session]!;
        const meis: GalleryMei[] = [];
        for (let neuron = 0; neuron < Math.min(n, maxNeurons); neuron++) {
          const objective = new IncreaseObjective(model, neuron, session, outReducer);
          const w = outReducer.window(frames - model.framesCut);
          const first = model.framesCut + w.start;
          meis.push(
            await meiFiles(
              objective,
              join(folder, 'output_neurons', session, String(neuron)),
              `${session} · neuron ${neuron}`,
              [first, first + w.length - 1],
              {
                session,
                neuron,
              },
            ),
          );
        }
        gallery.groups.push({ title: `Output neurons: ${session}`, meis });
      }
      writeFileAtomicSync(join(folder, 'index.html'), renderGallery(gallery));
      const all = gallery.groups.flatMap((g) => g.meis);
      const open = all.filter((m) => !m.converged).length;
      if (open > 0)
        io.err(
          `warning: ${open} of ${all.length} MEIs stopped at the step cap of ${settings.maxSteps} without converging (see index.html).`,
        );
      io.out(`wrote ${join(folder, 'index.html')} (${all.length} MEIs, ${all.length - open} converged)`);
      return ExitCode.ok;
    } finally {
      chosen?.engine.dispose();
      model.dispose();
    }
  },
});

/** The frames of an --init stimulus (disposed here): more than the model cuts. */
function initFrames(x: tf.Variable, framesCut: number): number {
  const frames = x.shape[1]!;
  x.dispose();
  if (frames <= framesCut)
    throw new ConfigError(`The stimulus needs at least ${framesCut + 1} frames (the model cuts ${framesCut}), got ${frames}.`);
  return frames;
}

/** Weights of every conv layer and readout, direction tuning and ROI animations of each session. */
async function modelFigures(
  model: CoreReadout,
  sessions: readonly string[],
  folder: string,
  save: (svg: string, base: string, caption: string) => void,
  gallery: GalleryInput,
  animation: 'gif' | 'mp4' | 'none',
): Promise<void> {
  const layers = await coreWeights(model);
  layers.forEach((layer, i) => {
    const svg = layerWeightsSvg(layer, i === 0 && model.stimulus.channels === 2 ? { inputNames: ['Green', 'UV'] } : {});
    save(svg, join(folder, 'weights', layer.name), `Weights of ${layer.name}`);
  });
  const bar = { channels: model.stimulus.channels, height: model.stimulus.height, width: model.stimulus.width, frameRate: FRAME_RATE };
  const barOptions = { ...bar, barWidth: Math.max(2, Math.round(Math.min(bar.height, bar.width) / 6)), speed: FRAME_RATE * 0.5 };
  const movie = movingBarStimulus(barOptions);
  for (const session of sessions) {
    const masks = await readoutMasks(model, session);
    if (masks)
      save(
        readoutMasksSvg(masks, { title: `Readout masks: ${session}` }),
        join(folder, 'weights', `readout_${session}`),
        `Readout masks of ${session}`,
      );
    const [t, h, w, c] = movie.shape;
    const out = tf.tidy(() => model.forward(tf.tensor5d(movie.data, [1, t, h, w, c]), { session }));
    const responses = { data: (await out.data()) as Float32Array, frames: out.shape[1]!, neurons: out.shape[2]! };
    out.dispose();
    const tuning = directionTuning(responses, model.framesCut, movingBarSweepFrames(barOptions), MOVING_BAR_DIRECTIONS);
    save(
      directionTuningSvg(tuning, { title: `Direction tuning (moving bar): ${session}` }),
      join(folder, 'direction_tuning', session),
      `Direction tuning of ${session}`,
    );
    if (masks && animation !== 'none') {
      const frames = roiFrameSvgs(masks, responses, {
        title: `${session}: predicted responses at the readout positions`,
        framesCut: model.framesCut,
        stimulus: 'moving bar',
      }).map((s) => svgToRgba(s));
      mkdirSync(join(folder, 'roi'), { recursive: true });
      const useMp4 = animation === 'mp4' && findFfmpeg() !== undefined;
      const path = join(folder, 'roi', `${session}.${useMp4 ? 'mp4' : 'gif'}`);
      if (useMp4) await encodeMp4(frames, path, { fps: 10 });
      else writeFileAtomicSync(path, encodeGif(frames, { fps: 10 }));
      gallery.animations.push({ caption: `ROI animation of ${session} (moving bar)`, path: relative(folder, path) });
    }
  }
}
