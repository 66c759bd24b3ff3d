import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@openretina/backend';
import { SimpleCoreWrapper } from '@openretina/core';
import { readSafetensors } from '@openretina/formats';
import { writeFileAtomicSync } from '@openretina/formats/node';
import { CoreReadout } from '@openretina/models';
import { MultiGaussianMaskReadout } from '@openretina/readout';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { backendOption } from './options/common-options.js';
import { parseOptions, type OptionTable } from './options/option-table.js';
import { UsageError } from './errors.js';

/** The Höfling 2024 low-res architecture (2 → 16 → 16 channels, 18 × 16 pixels). */
export function buildHoeflingLowRes(nNeuronsDict: Record<string, number>, seed = 42): CoreReadout {
  return new CoreReadout({
    core: new SimpleCoreWrapper({
      channels: [2, 16, 16],
      temporalKernelSizes: [21, 11],
      spatialKernelSizes: [11, 5],
      gammaInput: 0,
      gammaHidden: 0,
      gammaInSparse: 0,
      gammaTemporal: 40,
      inputPadding: 0,
      hiddenPadding: [0, 2, 2],
      cutFirstNFrames: 0,
      seed,
    }),
    readout: new MultiGaussianMaskReadout({
      inShape: [16, 120, 8, 6],
      nNeuronsDict,
      scale: true,
      bias: true,
      gaussianMeanScale: 6,
      gaussianVarScale: 4,
      positive: true,
      seed: seed + 1,
    }),
    inputShape: [2, 18, 16],
  });
}

/** A full-field chirp-like stimulus `[1, T, 18, 16, 2]`: a frequency sweep in green, an amplitude sweep in UV. */
function chirpStimulus(frames: number): tf.Tensor5D {
  const data = new Float32Array(frames * 18 * 16 * 2);
  for (let t = 0; t < frames; t++) {
    const u = t / frames;
    const green = Math.sin(2 * Math.PI * (0.5 + 4 * u) * u * 4);
    const uv = u * Math.sin(2 * Math.PI * 2 * u * 4);
    for (let p = 0; p < 18 * 16; p++) {
      data[(t * 18 * 16 + p) * 2] = green;
      data[(t * 18 * 16 + p) * 2 + 1] = uv;
    }
  }
  return tf.tensor5d(data, [1, frames, 18, 16, 2]);
}

function findBundledWeights(): string | undefined {
  let dir = resolve('.');
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'fixtures', 'openretina-1.1.1', 'state_dict.safetensors');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

const demoOptions: OptionTable = {
  frames: {
    type: 'string',
    placeholder: 'N',
    default: '150',
    description: 'frames of the chirp (≥ 31: the model needs 30 frames of history)',
  },
  output: { type: 'string', placeholder: 'DIR', default: join('runs', 'demo'), description: 'the folder of responses.json' },
  backend: { ...backendOption, default: 'auto' },
};

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'Build the Höfling low-res model, load bundled OpenRetina weights and predict responses to a chirp',
  synopsis: ['openretina demo [options]'],
  options: demoOptions,
  async run(argv: string[], io: CliIO): Promise<number> {
    const values = parseOptions(demoOptions, argv, { warn: (line) => io.err(line) }).values as {
      frames: string;
      output: string;
      backend: string;
    };
    const frames = Number(values.frames);
    if (!Number.isInteger(frames) || frames < 31) {
      throw new UsageError(`--frames must be an integer ≥ 31 (the model needs 30 frames of history), got "${values.frames}".`);
    }
    const backend = await initBackend(values.backend as 'auto');
    io.out(`backend: ${backend.name} (${backend.reason})`);
    const model = buildHoeflingLowRes({ session_1: 20, session_2: 35, session_3: 50 });
    const weights = findBundledWeights();
    if (weights) {
      model.loadStateDict(readSafetensors(readFileSync(weights), weights).tensors);
      io.out(`loaded OpenRetina weights from ${weights}`);
    } else {
      io.out('no bundled weights found: using a freshly initialised model');
    }
    model.eval();
    const x = chirpStimulus(frames);
    const started = performance.now();
    const y = model.forward(x, { session: 'session_2' });
    const ms = performance.now() - started;
    const [, tOut, n] = y.shape;
    const values2d = (await y.array())[0]!;
    tf.dispose([x, y]);
    model.dispose();
    const means = Array.from({ length: n }, (_, j) => values2d.reduce((a, row) => a + row[j]!, 0) / tOut);
    io.out(
      `predicted ${n} neurons × ${tOut} frames in ${ms.toFixed(0)} ms; mean response ${(means.reduce((a, b) => a + b, 0) / n).toFixed(4)}`,
    );
    const file = join(values.output, 'responses.json');
    writeFileAtomicSync(
      file,
      JSON.stringify({ session: 'session_2', frames, outputFrames: tOut, meanPerNeuron: means, responses: values2d }),
    );
    io.out(`wrote ${file}`);
    return ExitCode.ok;
  },
});
