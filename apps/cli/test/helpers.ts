// Shared helpers of the CLI tests.
import { generateSyntheticData } from '@openretina/data-io';
import { writeHdf5Dataset } from '@openretina/data-io/node';
import { expect } from 'vitest';
import { runCli, type CliIO } from '../src/index.js';

/** A CliIO that records what a command prints. */
export function capture(): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

/** A tiny generic-HDF5 dataset, 2 channels 18×16, with a stimulus named test_movie (as in the one-liner). */
export async function writeTinyDataset(
  dir: string,
  sessionPrefix = 'session',
  edit: (synthetic: ReturnType<typeof generateSyntheticData>) => void = () => {},
): Promise<void> {
  const synthetic = generateSyntheticData({ numColors: 2, numStimuli: 2, numSessions: 2, clipLength: 4, height: 18, width: 16, seed: 3 });
  edit(synthetic);
  const rename = (name: string) => (name === 'random_noise_1' ? 'test_movie' : name);
  const stimuli = Object.fromEntries(Object.entries(synthetic.stimuli).map(([k, v]) => [rename(k), v]));
  const sessions = Object.fromEntries(
    Object.entries(synthetic.sessions).map(([, v], i) => [
      `${sessionPrefix}_${i + 1}`,
      { responses: Object.fromEntries(Object.entries(v.responses).map(([k, r]) => [rename(k), r])), sessionInfo: v.sessionInfo },
    ]),
  );
  await writeHdf5Dataset(dir, { stimuli, sessions, extension: '.h5' });
}

/** The hdf5 one-liner overrides for the tiny dataset, with a small model and a short run (2 epochs). */
export function tinyHdf5Overrides(dataDir: string, trainBatches: number): string[] {
  return [
    `paths.data_dir=${dataDir}`,
    'data_io.test_names=[test_movie]',
    'data_io.color_channels=2',
    'data_io.video_height=18',
    'data_io.video_width=16',
    'model.hidden_channels=[4,4]',
    'model.core.temporal_kernel_sizes=[5,3]',
    'model.core.spatial_kernel_sizes=[5,3]',
    'model.in_shape=[2,30,18,16]',
    'dataloader.batch_size=4',
    'dataloader.clip_length=30',
    'dataloader.train_chunk_size=20',
    'dataloader.num_val_clips=2',
    'trainer.max_epochs=2',
    `++trainer.limit_train_batches=${trainBatches}`,
  ];
}

/** A failure as the brief asks: exit 1 (2 for usage), one `error [CODE]: message` line first, no stack trace. */
export function expectCleanFailure(r: { code: number; errors: string[] }, label: string, code?: RegExp): void {
  expect([1, 2], `${label}: exit code ${r.code}; ${r.errors.join(' | ')}`).toContain(r.code);
  // warnings may come first; exactly one error line
  const lines = r.errors.filter((l) => l.startsWith('error ['));
  expect(lines, `${label}: ${r.errors.join(' | ')}`).toHaveLength(1);
  expect(lines[0], label).toMatch(/^error \[[A-Z_]+\]: \S/);
  if (code) expect(lines[0], label).toMatch(code);
  expect(r.errors.join('\n'), label).not.toMatch(/^\s+at /m);
}

/** `openretina train` on the tiny dataset into `out` (one training batch, seed 0, cpu, quiet), then `extra`. */
export function tinyTrainArgs(dataDir: string, out: string, extra: string[] = []): string[] {
  return [
    'train',
    '--config',
    'hdf5',
    ...tinyHdf5Overrides(dataDir, 1),
    'seed=0',
    `paths.output_dir=${out}`,
    '--backend',
    'cpu',
    '--progress',
    'none',
    '--report-meis',
    '0',
    ...extra,
  ];
}

/** Runs a command in this process: its exit code and what it printed. */
export async function runCaptured(args: string[]): Promise<{ code: number; lines: string[]; errors: string[] }> {
  const io = capture();
  const code = await runCli(args, io);
  return { code, lines: io.lines, errors: io.errors };
}
