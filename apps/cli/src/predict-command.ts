import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@openretina/backend';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { CoreReadout } from '@openretina/models';
import { readNpyFile, writeNpyFile } from '@openretina/data-io/node';
import { toFloat32 } from '@openretina/formats';
import { assertFinite } from '@openretina/layers';
import { loadResponseModel } from '@openretina/hub/node';
import { loadOnnxModel } from '@openretina/onnx/node';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { backendOption, checkpointOption, deviceOption, engineOption, sessionOption } from './options/common-options.js';
import { parseOptions, type OptionTable } from './options/option-table.js';
import { UsageError } from './errors.js';
import { chooseEngine, describeEngine, parseDevice, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { cliDownloadOptions } from './download-progress.js';
import { assertFiniteWeights } from './finite-inputs.js';
import { refuseOutputOverInput } from './run-folder.js';

const predictOptions: OptionTable = {
  checkpoint: {
    ...checkpointOption,
    description: 'the model: an OpenRetina .ckpt/.pt, a checkpoint folder, an .onnx file or a published model name',
  },
  input: { type: 'string', placeholder: 'FILE', description: 'the stimulus .npy: float (B, C, T, H, W) as OpenRetina, or (C, T, H, W)' },
  output: { type: 'string', placeholder: 'FILE', description: 'the responses .npy to write: float32 (B, T_out, N)' },
  session: { ...sessionOption, description: 'one session (default every session, concatenated in sorted order)' },
  backend: { ...backendOption, default: 'auto' },
  engine: {
    ...engineOption,
    default: 'auto',
    description:
      'the compute engine (auto: ONNX Runtime when it covers a core-readout model, else TF.js; ensembles and .onnx files run as loaded)',
  },
  device: { ...deviceOption, default: 'cpu' },
};

export const predictCommand = defineCommand({
  name: 'predict',
  summary: 'Predict responses of a model (.ckpt/.pt, checkpoint folder, .onnx or a published name) to a stimulus .npy',
  synopsis: ['openretina predict --checkpoint C --input x.npy --output y.npy [options]'],
  options: predictOptions,
  async run(argv: string[], io: CliIO): Promise<number> {
    const values = parseOptions(predictOptions, argv, { warn: (line) => io.err(line) }).values as Record<string, string | undefined>;
    if (!values.checkpoint || !values.input || !values.output) {
      throw new UsageError(`--checkpoint, --input and --output are required.`);
    }
    refuseOutputOverInput(values.output, { '--input': values.input, '--checkpoint': values.checkpoint });
    const engineChoice = parseEngineChoice(values.engine);
    await initBackend(values.backend as 'auto');
    const array = await readNpyFile(values.input);
    const shape = array.shape.length === 4 ? [1, ...array.shape] : array.shape;
    if (shape.length !== 5) throw new ShapeError(`${values.input}: expected a (B, C, T, H, W) stimulus, got ${formatShape(array.shape)}.`);
    if (shape.some((d) => d === 0))
      throw new ShapeError(`${values.input}: the stimulus ${formatShape(shape)} is empty (every dimension must be ≥ 1).`);
    assertFinite(toFloat32(array.data), `${values.input} (the stimulus, (B, C, T, H, W))`, shape);
    const onnxOptions = values.session === undefined ? {} : { sessionName: values.session };
    const model = await loadResponseModel(values.checkpoint, {
      ...cliDownloadOptions(),
      loadOnnx: (path) => loadOnnxModel(path, onnxOptions),
    });
    let chosen: ChosenEngine | undefined;
    try {
      assertFiniteWeights(model, values.checkpoint);
      let predict = (x: tf.Tensor5D): Promise<tf.Tensor3D> =>
        model.predict(x, values.session === undefined ? {} : { session: values.session });
      if (model instanceof CoreReadout) {
        model.eval();
        chosen = await chooseEngine(model, engineChoice, { device: parseDevice(values.device) });
        io.out(describeEngine(chosen));
        const engine = chosen.engine;
        const sessions = values.session === undefined ? [...model.sessions] : [values.session];
        for (const s of sessions) model.readout.numNeurons(s); // an unknown session: a clear error first
        predict = async (x) => {
          if (sessions.length === 1) return engine.predict(x, sessions[0]!);
          // all sessions concatenated along the neurons in sorted order, as the model's own forward
          const parts: tf.Tensor3D[] = [];
          for (const s of sessions) parts.push(await engine.predict(x, s));
          const y = tf.concat(parts, -1) as tf.Tensor3D;
          tf.dispose(parts);
          return y;
        };
      } else if (engineChoice === 'onnx' && !/\.onnx$/i.test(values.checkpoint)) {
        throw new ConfigError(
          `--engine onnx needs a core-readout model; ${values.checkpoint} loads as another kind of model (e.g. an ensemble). Use --engine auto or tfjs.`,
        );
      } else {
        io.out(`engine: the loaded model's own (${/\.onnx$/i.test(values.checkpoint) ? 'ONNX Runtime' : 'TF.js'})`);
      }
      const [b, c, t, h, w] = shape as [number, number, number, number, number];
      const x = tf.tidy(() => tf.transpose(tf.tensor5d(toFloat32(array.data), [b, c, t, h, w]), [0, 2, 3, 4, 1]) as tf.Tensor5D);
      const started = performance.now();
      const y = await predict(x);
      const ms = performance.now() - started;
      const data = (await y.data()) as Float32Array;
      const outShape = [...y.shape];
      tf.dispose([x, y]);
      await writeNpyFile(values.output, data, outShape);
      io.out(`predicted ${formatShape(outShape)} (batch, frames, neurons) in ${ms.toFixed(0)} ms → ${values.output}`);
    } finally {
      chosen?.engine.dispose();
      model.dispose();
    }
    return ExitCode.ok;
  },
});
