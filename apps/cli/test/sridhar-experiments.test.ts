// The Sridhar 2025 and Vystrčilová 2024 experiments run from OpenRetina's configs on tiny datasets in the real formats
// (fixtures/experiments/sridhar_2025, made by make_sridhar_2025_tiny.py, with the overrides that fit them).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';
import { runCli } from '../src/index.js';
import { capture } from './helpers.js';

const DATA = join(REPO_ROOT, 'fixtures', 'experiments', 'sridhar_2025');
const tiny = JSON.parse(readFileSync(join(DATA, 'overrides.json'), 'utf8')) as {
  natural_movie: string[];
  white_noise: string[];
  experiments: Record<string, string[]>;
};
const root = mkdtempSync(join(tmpdir(), 'openretina-sridhar-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `openretina train --config NAME` on the tiny data (one epoch by default); returns the run folder's metrics. */
async function trainTiny(name: string, extra: string[] = [], epochs = 1) {
  const kind = name.includes('_wn_') ? 'white_noise' : 'natural_movie';
  const out = join(root, `${name}_${epochs}`);
  const io = capture();
  const code = await runCli(
    [
      'train',
      '--config',
      name,
      `paths.data_dir=${join(DATA, kind)}`,
      `paths.output_dir=${out}`,
      `trainer.max_epochs=${epochs}`,
      ...tiny[kind],
      ...tiny.experiments[name]!,
      ...extra,
      '--backend',
      'cpu',
      '--progress',
      'none',
      '--report-meis',
      // the core-readout runs write report.html with one MEI of a one-channel stimulus (no range constraints)
      name.includes('_cnn') ? '1' : '0',
    ],
    io,
  );
  expect(code, io.errors.join('\n')).toBe(0);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
    test: { test: { correlation: number; n_neurons: number } };
    epochs_run: number;
    best: { epoch: number };
    history: { val_evaluation_loss: number }[];
    sessions: Record<string, number>;
    model?: string;
  };
  return { out, metrics, io };
}

describe('Sridhar 2025 / Vystrčilová 2024 experiments from their configs (tiny data)', () => {
  const cases: [string, string | undefined, Record<string, number>][] = [
    ['sridhar_2025_nm_sc', 'SingleCellSpatialContrast', { '01': 1 }],
    ['sridhar_2025_wn_sc', 'SingleCellSpatialContrast', { '04': 1 }],
    ['sridhar_2025_nm_sc_multicell', 'SpatialContrastCoreReadout', { '01': 3 }],
    ['sridhar_2025_wn_sc_multicell', 'SpatialContrastCoreReadout', { '04': 3 }],
    ['vystrcilova_2024_nm_ln', 'SingleCellSeparatedLNP', { '01': 1 }],
    ['vystrcilova_2024_wn_ln', 'SingleCellSeparatedLNP', { '04': 1 }],
    ['vystrcilova_2024_nm_cnn', undefined, { '01': 3, '02': 1, '03': 2, '04': 3 }],
    ['vystrcilova_2024_wn_cnn', undefined, { '01': 3 }],
  ];
  for (const [name, modelClass, sessions] of cases) {
    it(`${name} trains, is evaluated on the test repeats and leaves no tensors behind`, async () => {
      const before = tf.memory().numTensors;
      const { out, metrics } = await trainTiny(name);
      expect(tf.memory().numTensors).toBe(before);
      expect(metrics.epochs_run).toBe(1);
      expect(metrics.sessions).toEqual(sessions);
      if (modelClass)
        expect(metrics.model).toBe(
          `openretina.models.${modelClass === 'SingleCellSeparatedLNP' ? 'linear_nonlinear' : 'spatial_contrast'}.${modelClass}`,
        );
      const n = Object.values(sessions).reduce((a, b) => a + b, 0);
      expect(metrics.test.test.n_neurons).toBe(n);
      expect(Number.isFinite(metrics.test.test.correlation)).toBe(true);
      for (const f of [
        'config.yaml',
        'metrics.csv',
        'per_neuron_test.csv',
        'checkpoints/final/model.safetensors',
        ...(modelClass ? [] : ['report.html']),
      ])
        expect(existsSync(join(out, f)), f).toBe(true);
    });
  }

  it("sridhar_2025_wn_sc trains as OpenRetina's own code does (apps/cli/side-by-side, train_reference_sridhar.py)", async () => {
    // the model starts from its STA (no random init) and the white-noise batches are numpy-exact, so both runs follow
    // the same path: every epoch's validation correlation within 1e-4, the test correlation too
    const reference = JSON.parse(
      readFileSync(join(REPO_ROOT, 'apps', 'cli', 'side-by-side', 'sridhar_2025_wn_sc_openretina_reference.json'), 'utf8'),
    ) as { epochs_run: number; best_epoch: number; test_correlation: number; history: { val_correlation: number }[] };
    const { metrics } = await trainTiny('sridhar_2025_wn_sc', [], 30);
    expect(metrics.epochs_run).toBe(reference.epochs_run);
    expect(metrics.best.epoch).toBe(reference.best_epoch);
    metrics.history.forEach((h, i) => expect(Math.abs(h.val_evaluation_loss - reference.history[i]!.val_correlation)).toBeLessThan(1e-4));
    expect(Math.abs(metrics.test.test.correlation - reference.test_correlation)).toBeLessThan(1e-4);
    expect(metrics.test.test.correlation).toBeGreaterThan(0.8); // the LN ground truth is found
  });

  it('an experiment whose cell does not exist in the data fails with the missing STA named', async () => {
    const io = capture();
    const code = await runCli(
      [
        'train',
        '--config',
        'sridhar_2025_wn_sc',
        `paths.data_dir=${join(DATA, 'white_noise')}`,
        `paths.output_dir=${join(root, 'missing')}`,
        ...tiny.white_noise,
        '~logger.wandb',
        'dataloader.retina_index="02"',
        'dataloader.cell_index=3',
        '--backend',
        'cpu',
        '--progress',
        'none',
      ],
      io,
    );
    expect(code).not.toBe(0);
    expect(io.errors.join('\n')).toMatch(/cell_data_02_WN_stas_cell_3\.npy/);
  });
});
