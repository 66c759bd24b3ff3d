import { parseArgs } from 'node:util';
import { initBackend } from '@openretina/backend';
import { writeFileAtomic } from '@openretina/formats/node';
import { loadCoreReadout } from '@openretina/hub/node';
import { exportOnnx } from '@openretina/onnx';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { UsageError } from './errors.js';
import { cliDownloadOptions } from './download-progress.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export a model (.ckpt/.pt, checkpoint folder or a published name) to ONNX (opset 17, dynamic batch and time)',
  usage:
    'openretina export --checkpoint C [--session S] --output model.onnx [--conv-form gemm|depthwise|composed]\n' +
    "  --conv-form: the library's default when omitted (gemm when the model allows it, else depthwise);\n" +
    '  graph input (batch, C, time, H, W) as OpenRetina; without --session every session, concatenated in sorted order.',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        checkpoint: { type: 'string' },
        session: { type: 'string' },
        output: { type: 'string' },
        'conv-form': { type: 'string' },
      },
      strict: true,
    });
    if (!values.checkpoint || !values.output) {
      throw new UsageError(`--checkpoint and --output are required.`);
    }
    const convForm = values['conv-form'];
    if (convForm !== undefined && convForm !== 'gemm' && convForm !== 'depthwise' && convForm !== 'composed') {
      throw new UsageError(`--conv-form must be gemm, depthwise or composed, got "${convForm}".`);
    }
    await initBackend('cpu');
    const model = await loadCoreReadout(values.checkpoint, cliDownloadOptions());
    try {
      const bytes = exportOnnx(model, {
        ...(convForm === undefined ? {} : { convForm }),
        ...(values.session === undefined ? {} : { session: values.session }),
      });
      await writeFileAtomic(values.output, bytes);
      const sessions = values.session ?? model.sessions.join(', ');
      io.out(`wrote ${values.output} (${(bytes.byteLength / 1024).toFixed(0)} KiB; sessions: ${sessions}; frames cut: ${model.framesCut})`);
    } finally {
      model.dispose();
    }
    return ExitCode.ok;
  },
};
