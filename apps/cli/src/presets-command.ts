import { parseArgs } from 'node:util';
import { listPresets, presetsDirectory } from './config/compose.js';
import { ExitCode, type CliIO, type Command } from './commands.js';

export const presetsCommand: Command = {
  name: 'presets',
  summary: 'List every experiment preset that `train --config` and `eval --config` accept',
  usage: 'openretina presets\n  prints one preset name per line (the YAML files of the configs folder shipped with the CLI).',
  async run(argv: string[], io: CliIO): Promise<number> {
    parseArgs({ args: argv, options: {}, strict: true });
    for (const name of listPresets(presetsDirectory())) io.out(name);
    return ExitCode.ok;
  },
};
