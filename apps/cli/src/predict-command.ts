import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@openretina/backend';
import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { CoreReadout } from '@openretina/models';
import { readNpyFile, writeNpyFile } from '@openretina/data-io/node';
import { toFloat32 } from '@openretina/formats';
import { assertFinite } from '@openretina/layers';
import { loadResponseModel } from '@openretina/hub/node';
import { loadOnnxModel } from '@openretina/onnx/node';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { UsageError } from './errors.js';
import { chooseEngine, describeEngine, parseDevice, parseEngineChoice, type ChosenEngine } from './engine-choice.js';
import { cliDownloadOptions } from './download-progress.js';
import { assertFiniteWeights } from './finite-inputs.js';
import { refuseOutputOverInput } from './run-folder.js';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict responses of a model (.ckpt/.pt, checkpoint folder, .onnx or a published name) to a stimulus .npy',
  usage:
    'openretina predict --checkpoint C --input x.npy [--session S] --output y.npy [--engine auto|onnx|tfjs] [--device cpu|cuda|webgpu] [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu]\n' +
    '  --engine: auto (default) = ONNX Runtime when it covers a core-readout model, else TF.js (ensembles and .onnx\n' +
    '  files run as loaded);\n' +
    '  x.npy: float (B, C, T, H, W) as OpenRetina (or (C, T, H, W)); y.npy: float32 (B, T_out, N);\n' +
    '  without --session all sessions are concatenated in sorted order.',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        checkpoint: { type: 'string' },
        input: { type: 'string' },
        output: { type: 'string' },
        session: { type: 'string' },
        backend: { type: 'string', default: 'auto' },
        engine: { type: 'string', default: 'auto' },
        device: { type: 'string', default: 'cpu' },
      },
      strict: true,
    });
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
};
