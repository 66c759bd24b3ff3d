import { parseArgs } from 'node:util';
import { PUBLISHED_MODELS, downloadPublishedModel, isPublishedModel } from '@openretina/hub/node';
import { ExitCode, type CliIO, type Command } from './commands.js';

export const downloadCommand: Command = {
  name: 'download',
  summary: 'Download a published OpenRetina model into the cache (or find it in the HuggingFace cache)',
  usage: `openretina download NAME [--cache-dir DIR] [--force] | openretina download --list\n  NAME: ${Object.keys(PUBLISHED_MODELS).join(', ')}`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { 'cache-dir': { type: 'string' }, force: { type: 'boolean', default: false }, list: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    if (values.list) {
      for (const [name, path] of Object.entries(PUBLISHED_MODELS)) io.out(`${name.padEnd(28)} ${path}`);
      return ExitCode.ok;
    }
    const name = positionals[0];
    if (!name || positionals.length > 1) {
      io.err(`Give one model name.\nUsage: ${downloadCommand.usage}`);
      return ExitCode.usage;
    }
    if (!isPublishedModel(name)) {
      io.err(`Unknown model "${name}". Published models: ${Object.keys(PUBLISHED_MODELS).join(', ')}.`);
      return ExitCode.usage;
    }
    const path = await downloadPublishedModel(name, {
      ...(values['cache-dir'] !== undefined ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.force ? { force: true } : {}),
    });
    io.out(path);
    return ExitCode.ok;
  },
};
