import { PUBLISHED_MODELS, downloadPublishedModel, isPublishedModel } from '@openretina/hub/node';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { UsageError } from './errors.js';
import { cliDownloadOptions, type DownloadProgressDisplay } from './download-progress.js';
import { progressOption } from './options/common-options.js';
import { parseOptions, stringValue, type OptionTable } from './options/option-table.js';

const downloadOptions: OptionTable = {
  'cache-dir': { type: 'string', placeholder: 'DIR', description: 'the cache folder (default: the @openretina cache)' },
  force: { type: 'boolean', default: false, description: 'download again even when the model is cached' },
  list: { type: 'boolean', default: false, description: 'list the published models and their paths, download nothing' },
  progress: { ...progressOption, description: 'download progress on stderr (auto: a bar on a TTY, else lines)' },
};

export const downloadCommand = defineCommand({
  name: 'download',
  summary: 'Download a published OpenRetina model into the cache (or find it in the HuggingFace cache)',
  synopsis: ['openretina download NAME [options]', 'openretina download --list'],
  options: downloadOptions,
  notes: [`NAME: ${Object.keys(PUBLISHED_MODELS).join(', ')}`],
  async run(argv: string[], io: CliIO): Promise<number> {
    const parsed = parseOptions(downloadOptions, argv, { positionals: true, warn: (line) => io.err(line) });
    const { values, positionals } = parsed;
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
    const cacheDir = stringValue(parsed, 'cache-dir');
    const path = await downloadPublishedModel(name, {
      ...cliDownloadOptions(stringValue(parsed, 'progress') as DownloadProgressDisplay),
      ...(cacheDir !== undefined ? { cacheDir } : {}),
      ...(values.force ? { force: true } : {}),
    });
    io.out(path);
    return ExitCode.ok;
  },
});
