import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@openretina/backend';
import { ShapeError, formatShape } from '@openretina/contracts';
import { readNpyFile, toFloat32, writeNpyFile } from '@openretina/data-io/node';
import { loadResponseModel } from '@openretina/hub/node';
import { ExitCode, type CliIO, type Command } from './commands.js';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Predict responses of a model (.ckpt/.pt, checkpoint folder, .onnx or a published name) to a stimulus .npy',
  usage:
    'openretina predict --checkpoint C --input x.npy [--session S] --output y.npy [--backend auto|wasm|cpu]\n' +
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
      },
      strict: true,
    });
    if (!values.checkpoint || !values.input || !values.output) {
      io.err(`--checkpoint, --input and --output are required.\nUsage: ${predictCommand.usage}`);
      return ExitCode.usage;
    }
    await initBackend(values.backend as 'auto');
    const array = await readNpyFile(values.input);
    const shape = array.shape.length === 4 ? [1, ...array.shape] : array.shape;
    if (shape.length !== 5) throw new ShapeError(`${values.input}: expected a (B, C, T, H, W) stimulus, got ${formatShape(array.shape)}.`);
    const model = await loadResponseModel(values.checkpoint, values.session === undefined ? {} : { sessionName: values.session });
    try {
      const [b, c, t, h, w] = shape as [number, number, number, number, number];
      const x = tf.tidy(() => tf.transpose(tf.tensor5d(toFloat32(array.data), [b, c, t, h, w]), [0, 2, 3, 4, 1]) as tf.Tensor5D);
      const started = performance.now();
      const y = await model.predict(x, values.session === undefined ? {} : { session: values.session });
      const ms = performance.now() - started;
      const data = (await y.data()) as Float32Array;
      const outShape = [...y.shape];
      tf.dispose([x, y]);
      await writeNpyFile(values.output, data, outShape);
      io.out(`predicted ${formatShape(outShape)} (batch, frames, neurons) in ${ms.toFixed(0)} ms → ${values.output}`);
    } finally {
      model.dispose();
    }
    return ExitCode.ok;
  },
};
