import { parseArgs } from 'node:util';
import { PUBLISHED_MODELS, downloadPublishedModel, isPublishedModel } from '@openretina/hub/node';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { UsageError } from './errors.js';
import { cliDownloadOptions, isDownloadProgressDisplay } from './download-progress.js';

export const downloadCommand: Command = {
  name: 'download',
  summary: 'Download a published OpenRetina model into the cache (or find it in the HuggingFace cache)',
  usage: `openretina download NAME [--cache-dir DIR] [--force] [--progress auto|bar|lines|none] | openretina download --list\n  NAME: ${Object.keys(PUBLISHED_MODELS).join(', ')}`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        'cache-dir': { type: 'string' },
        force: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        progress: { type: 'string', default: 'auto' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.list) {
      for (const [name, path] of Object.entries(PUBLISHED_MODELS)) io.out(`${name.padEnd(28)} ${path}`);
      return ExitCode.ok;
    }
    const name = positionals[0];
    if (!name || positionals.length > 1) {
      throw new UsageError(`Give one model name.`);
    }
    if (!isPublishedModel(name)) {
      throw new UsageError(`Unknown model "${name}". Published models: ${Object.keys(PUBLISHED_MODELS).join(', ')}.`);
    }
    const progress = values.progress ?? 'auto';
    if (!isDownloadProgressDisplay(progress)) {
      throw new UsageError(`--progress must be auto, bar, lines or none, got "${progress}".`);
    }
    const path = await downloadPublishedModel(name, {
      ...cliDownloadOptions(progress),
      ...(values['cache-dir'] !== undefined ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.force ? { force: true } : {}),
    });
    io.out(path);
    return ExitCode.ok;
  },
};
