import { listPresets, presetsDirectory } from './config/compose.js';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { parseOptions, type OptionTable } from './options/option-table.js';

const presetsOptions: OptionTable = {};

export const presetsCommand = defineCommand({
  name: 'presets',
  summary: 'List every experiment preset that `train --config` and `eval --config` accept',
  synopsis: ['openretina presets'],
  options: presetsOptions,
  notes: ['Prints one preset name per line (the YAML files of the configs folder shipped with the CLI).'],
  async run(argv: string[], io: CliIO): Promise<number> {
    parseOptions(presetsOptions, argv);
    for (const name of listPresets(presetsDirectory())) io.out(name);
    return ExitCode.ok;
  },
});
