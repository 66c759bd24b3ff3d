import { extname } from 'node:path';
import { initBackend } from '@openretina/backend';
import { writeFileAtomic } from '@openretina/formats/node';
import { writeOpenRetinaCheckpoint } from '@openretina/hub';
import { loadCoreReadout } from '@openretina/hub/node';
import { exportOnnx } from '@openretina/onnx';
import { ExitCode, defineCommand, type CliIO } from './commands.js';
import { checkpointOption, sessionOption } from './options/common-options.js';
import { parseOptions, type OptionTable } from './options/option-table.js';
import { UsageError } from './errors.js';
import { cliDownloadOptions } from './download-progress.js';

const FORMATS = ['onnx', 'ckpt'] as const;
type ExportFormat = (typeof FORMATS)[number];

/** `--format` (checked by the option table), else from the output's extension (`.ckpt`/`.pt` → ckpt, else onnx). */
function exportFormat(format: string | undefined, output: string): ExportFormat {
  if (format !== undefined) return format as ExportFormat;
  return ['.ckpt', '.pt'].includes(extname(output).toLowerCase()) ? 'ckpt' : 'onnx';
}

const exportOptions: OptionTable = {
  checkpoint: checkpointOption,
  output: { type: 'string', placeholder: 'FILE', description: 'the file to write (model.onnx or model.ckpt)' },
  format: {
    type: 'string',
    placeholder: 'F',
    choices: FORMATS,
    description: 'what to write (default from the extension of --output: .ckpt/.pt → ckpt, else onnx)',
  },
  session: { ...sessionOption, description: 'ONNX only: one session (default every session, concatenated in sorted order)' },
  'conv-form': {
    type: 'string',
    placeholder: 'FORM',
    choices: ['gemm', 'depthwise', 'composed'],
    description: "ONNX only: how convolutions are written (default the library's: gemm when the model allows it, else depthwise)",
  },
};

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'Export a model (.ckpt/.pt, checkpoint folder or a published name) to ONNX or back to an OpenRetina .ckpt',
  synopsis: [
    'openretina export --checkpoint C --output model.onnx [--format onnx] [--session S] [--conv-form FORM]',
    'openretina export --checkpoint C --output model.ckpt [--format ckpt]',
  ],
  options: exportOptions,
  notes: [
    'onnx (opset 17, dynamic batch and time): graph input (batch, C, time, H, W) as OpenRetina.',
    'ckpt: a Lightning-layout checkpoint with UnifiedCoreReadout hyper-parameters (plain containers and tensors) that',
    'OpenRetina\'s load_core_readout_model(path, "cpu") loads.',
  ],
  async run(argv: string[], io: CliIO): Promise<number> {
    const values = parseOptions(exportOptions, argv, { warn: (line) => io.err(line) }).values as Record<string, string | undefined>;
    if (!values.checkpoint || !values.output) {
      throw new UsageError(`--checkpoint and --output are required.`);
    }
    const format = exportFormat(values.format, values.output);
    const convForm = values['conv-form'] as 'gemm' | 'depthwise' | 'composed' | undefined;
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
});
