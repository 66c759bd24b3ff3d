import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@openretina/backend';
import { writeFileAtomic } from '@openretina/formats/node';
import { writeOpenRetinaCheckpoint } from '@openretina/hub';
import { loadCoreReadout } from '@openretina/hub/node';
import { exportOnnx } from '@openretina/onnx';
import { ExitCode, type CliIO, type Command } from './commands.js';
import { UsageError } from './errors.js';
import { cliDownloadOptions } from './download-progress.js';

const FORMATS = ['onnx', 'ckpt'] as const;
type ExportFormat = (typeof FORMATS)[number];

/** `--format`, else from the output's extension (`.ckpt`/`.pt` → ckpt, anything else → onnx). */
function exportFormat(format: string | undefined, output: string): ExportFormat | undefined {
  if (format !== undefined) return (FORMATS as readonly string[]).includes(format) ? (format as ExportFormat) : undefined;
  return ['.ckpt', '.pt'].includes(extname(output).toLowerCase()) ? 'ckpt' : 'onnx';
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export a model (.ckpt/.pt, checkpoint folder or a published name) to ONNX or back to an OpenRetina .ckpt',
  usage:
    'openretina export --checkpoint C --output model.onnx [--format onnx] [--session S] [--conv-form gemm|depthwise|composed]\n' +
    'openretina export --checkpoint C --output model.ckpt [--format ckpt]\n' +
    '  onnx (opset 17, dynamic batch and time): graph input (batch, C, time, H, W) as OpenRetina; without --session every\n' +
    "  session, concatenated in sorted order; --conv-form: the library's default when omitted (gemm when the model\n" +
    '  allows it, else depthwise).\n' +
    '  ckpt: a Lightning-layout checkpoint with UnifiedCoreReadout hyper-parameters (plain containers and tensors) that\n' +
    '  OpenRetina\'s load_core_readout_model(path, "cpu") loads. --format defaults from the extension (.ckpt/.pt: ckpt).',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      options: {
        checkpoint: { type: 'string' },
        session: { type: 'string' },
        output: { type: 'string' },
        format: { type: 'string' },
        'conv-form': { type: 'string' },
      },
      strict: true,
    });
    if (!values.checkpoint || !values.output) {
      throw new UsageError(`--checkpoint and --output are required.`);
    }
    const format = exportFormat(values.format, values.output);
    if (!format) throw new UsageError(`--format must be onnx or ckpt, got "${values.format}".`);
    const convForm = values['conv-form'];
    if (convForm !== undefined && convForm !== 'gemm' && convForm !== 'depthwise' && convForm !== 'composed') {
      throw new UsageError(`--conv-form must be gemm, depthwise or composed, got "${convForm}".`);
    }
    if (format === 'ckpt' && (values.session !== undefined || values['conv-form'] !== undefined)) {
      throw new UsageError('--session and --conv-form apply to ONNX exports; a .ckpt holds every session.');
    }
    await initBackend('cpu');
    const model = await loadCoreReadout(values.checkpoint, cliDownloadOptions());
    try {
      if (format === 'ckpt') {
        const bytes = writeOpenRetinaCheckpoint(model);
        await writeFileAtomic(values.output, bytes);
        io.out(
          `wrote ${values.output} (${(bytes.byteLength / 1024).toFixed(0)} KiB; OpenRetina UnifiedCoreReadout; sessions: ${model.sessions.join(', ')})`,
        );
      } else {
        const bytes = exportOnnx(model, {
          ...(convForm === undefined ? {} : { convForm }),
          ...(values.session === undefined ? {} : { session: values.session }),
        });
        await writeFileAtomic(values.output, bytes);
        const sessions = values.session ?? model.sessions.join(', ');
        io.out(
          `wrote ${values.output} (${(bytes.byteLength / 1024).toFixed(0)} KiB; sessions: ${sessions}; frames cut: ${model.framesCut})`,
        );
      }
    } finally {
      model.dispose();
    }
    return ExitCode.ok;
  },
};
