import { parseArgs } from 'node:util';
import { createSyntheticDataset } from '@openretina/data-io/node';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { UsageError } from './errors.js';

function positiveInt(text: string | undefined, flag: string, min = 1): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got "${text}".`);
  return v;
}

export const createDataCommand: Command = {
  name: 'create-data',
  summary: "Write OpenRetina create-data's synthetic dataset in the generic HDF5 format",
  usage:
    'openretina create-data DIR [--num-colors 3] [--num-stimuli 4] [--num-sessions 2] [--clip-length 75] [--height 16] [--width 8] [--seed 0]\n' +
    '  writes DIR/stimuli/random_noise_{i}.npy (C, (70+i)·clip_length, H, W) and DIR/session_{k}.hdf5;\n' +
    '  train on it with: openretina train --config hdf5_core_readout paths.data_dir=DIR data_io.color_channels=C',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        'num-colors': { type: 'string', default: '3' },
        'num-stimuli': { type: 'string', default: '4' },
        'num-sessions': { type: 'string', default: '2' },
        'clip-length': { type: 'string', default: '75' },
        height: { type: 'string', default: '16' },
        width: { type: 'string', default: '8' },
        seed: { type: 'string', default: '0' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1) {
      throw new UsageError(`Give exactly one output folder.`);
    }
    const numColors = positiveInt(values['num-colors'], '--num-colors');
    const numStimuli = positiveInt(values['num-stimuli'], '--num-stimuli');
    const numSessions = positiveInt(values['num-sessions'], '--num-sessions');
    const clipLength = positiveInt(values['clip-length'], '--clip-length');
    const height = positiveInt(values.height, '--height', 2);
    const width = positiveInt(values.width, '--width', 2);
    const seed = positiveInt(values.seed, '--seed', 0);
    const created = await createSyntheticDataset(positionals[0]!, {
      numColors: numColors,
      numStimuli: numStimuli,
      numSessions: numSessions,
      clipLength: clipLength,
      height: height,
      width: width,
      seed: seed,
    });
    io.out(
      `wrote ${created.dir}: stimuli ${created.stimulusNames.join(', ')}; sessions ${Object.entries(created.neuronsPerSession)
        .map(([s, n]) => `${s} (${n} neurons)`)
        .join(', ')}`,
    );
    return ExitCode.ok;
  },
};
