import { createSyntheticDataset } from '@openretina/data-io/node';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { UsageError } from './errors.js';
import { parseOptions, stringValue, type OptionTable } from './options/option-table.js';

function positiveInt(text: string | undefined, flag: string, min = 1): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got "${text}".`);
  return v;
}

const createDataOptions: OptionTable = {
  output: { type: 'string', placeholder: 'DIR', description: 'the folder to write (or give DIR as the only argument)' },
  'num-colors': { type: 'string', placeholder: 'C', default: '3', description: 'colour channels of the stimuli' },
  'num-stimuli': { type: 'string', placeholder: 'N', default: '4', description: 'stimulus movies' },
  'num-sessions': { type: 'string', placeholder: 'N', default: '2', description: 'recording sessions' },
  'clip-length': { type: 'string', placeholder: 'T', default: '75', description: 'frames per clip' },
  height: { type: 'string', placeholder: 'H', default: '16', description: 'stimulus height in pixels (≥ 2)' },
  width: { type: 'string', placeholder: 'W', default: '8', description: 'stimulus width in pixels (≥ 2)' },
  seed: { type: 'string', placeholder: 'N', default: '0', description: 'random seed (integer ≥ 0)' },
};

export const createDataCommand = defineCommand({
  name: 'create-data',
  summary: "Write OpenRetina create-data's synthetic dataset in the generic HDF5 format",
  synopsis: ['openretina create-data --output DIR [options]', 'openretina create-data DIR [options]'],
  options: createDataOptions,
  notes: [
    'Writes DIR/stimuli/random_noise_{i}.npy (C, (70+i)·clip_length, H, W) and DIR/session_{k}.hdf5;',
    'train on it with: openretina train --config hdf5_core_readout paths.data_dir=DIR data_io.color_channels=C',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const parsed = parseOptions(createDataOptions, argv, { positionals: true, warn: (line) => io.err(line) });
    const { positionals } = parsed;
    const flagOutput = stringValue(parsed, 'output');
    const folders = [...(flagOutput === undefined ? [] : [flagOutput]), ...positionals];
    if (folders.length !== 1) {
      throw new UsageError(`Give exactly one output folder (--output DIR or DIR).`);
    }
    const value = (name: string) => stringValue(parsed, name);
    const created = await createSyntheticDataset(folders[0]!, {
      numColors: positiveInt(value('num-colors'), '--num-colors'),
      numStimuli: positiveInt(value('num-stimuli'), '--num-stimuli'),
      numSessions: positiveInt(value('num-sessions'), '--num-sessions'),
      clipLength: positiveInt(value('clip-length'), '--clip-length'),
      height: positiveInt(value('height'), '--height', 2),
      width: positiveInt(value('width'), '--width', 2),
      seed: positiveInt(value('seed'), '--seed', 0),
    });
    io.out(
      `wrote ${created.dir}: stimuli ${created.stimulusNames.join(', ')}; sessions ${Object.entries(created.neuronsPerSession)
        .map(([s, n]) => `${s} (${n} neurons)`)
        .join(', ')}`,
    );
    return ExitCode.ok;
  },
});
