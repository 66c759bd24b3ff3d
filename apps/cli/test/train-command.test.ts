import { existsSync, readdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands, runCli } from '../src/index.js';
import { capture, tinyHdf5Overrides, writeTinyDataset } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-train-cli-'));
const data = join(root, 'my_lab');
const otherSessions = join(root, 'other_lab');

// The one-liner, with a small model and a short run (2 epochs of 2 batches).
const oneLiner = tinyHdf5Overrides(data, 2);

beforeAll(async () => {
  await writeTinyDataset(data, 'session');
  await writeTinyDataset(otherSessions, 'retina');
});

describe('openretina train / eval / create-data', () => {
  const run = join(root, 'run');

  it('trains with the hdf5 one-liner and writes config, checkpoints, CSV log, metrics.json and report.html', async () => {
    const io = capture();
    const code = await runCli(
      [
        'train',
        '--config',
        'hdf5',
        ...oneLiner,
        `paths.output_dir=${run}`,
        'training_callbacks.model_checkpoint.save_last=true',
        '--backend',
        'cpu',
        '--progress',
        'none',
        '--report-meis',
        '1',
      ],
      io,
    );
    expect(code, io.errors.join('\n')).toBe(0);
    for (const f of [
      'config.yaml',
      'metrics.csv',
      'csv/metrics.csv', // the CSV logger of the config (save_dir ${paths.output_dir}, name csv/)
      'metrics.json',
      'report.html',
      'per_neuron_test_movie.csv',
      'evaluation_test_movie.json',
    ]) {
      expect(existsSync(join(run, f)), f).toBe(true);
    }
    for (const c of ['best', 'last', 'final']) expect(existsSync(join(run, 'checkpoints', c, 'model.safetensors')), c).toBe(true);
    // the TensorBoard logger of the config writes its event file into ${paths.output_dir}/tensorboard/
    expect(readdirSync(join(run, 'tensorboard')).some((f) => f.startsWith('events.out.tfevents.'))).toBe(true);
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as {
      test: Record<string, { correlation: number; n_neurons: number }>;
      epochs_run: number;
    };
    expect(metrics.epochs_run).toBe(2);
    expect(Number.isFinite(metrics.test.test_movie!.correlation)).toBe(true);
    expect(metrics.test.test_movie!.n_neurons).toBeGreaterThan(0);
    const csv = readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toContain('val_evaluation_loss');
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    // self-contained: no external files; one inline script builds the "open in the demo" link
    expect(html).not.toMatch(/src="http/);
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).not.toMatch(/NaN/);
    // the training curves (one figure), test traces and correlations, two filter layers, the readout masks of each
    // of the two sessions, one MEI
    expect((html.match(/<svg/g) ?? []).length).toBe(1 + 2 + 2 + 2 + 1);
    expect(html).toContain('Epochs are counted from 1');
    expect(readFileSync(join(run, 'config.yaml'), 'utf8')).toContain(`output_dir: ${run}`);
  }, 120_000);

  it('writes last/ with the weights after the last epoch and best/ with those of the kept epoch', async () => {
    // the run above, and one that keeps the other epoch (the checkpoint's mode turned round)
    const turned = join(root, 'run-mode-turned');
    const io = capture();
    const args = ['train', '--config', 'hdf5', ...oneLiner, `paths.output_dir=${turned}`, '--backend', 'cpu', '--progress', 'none'];
    const code = await runCli([...args, '--report-meis', '0', 'training_callbacks.model_checkpoint.mode=min'], io);
    expect(code, io.errors.join('\n')).toBe(0);
    const kept = [run, turned].map((r) => {
      const { best, epochs_run } = JSON.parse(readFileSync(join(r, 'metrics.json'), 'utf8')) as {
        best: { epoch: number };
        epochs_run: number;
      };
      const weights = (c: string): Buffer => readFileSync(join(r, 'checkpoints', c, 'model.safetensors'));
      // equal exactly when the last epoch is the kept one (an improved epoch's files are encoded once for both)
      expect(weights('last').equals(weights('best')), `${r}: kept epoch ${best.epoch} of ${epochs_run}`).toBe(
        best.epoch === epochs_run - 1,
      );
      return best.epoch;
    });
    expect(new Set(kept).size, 'the two runs keep different epochs').toBe(2);
  }, 120_000);

  it('evaluates the trained checkpoint (CSV, JSON, summary with the 0.15 cutoff)', async () => {
    const out = join(root, 'eval');
    const io = capture();
    const code = await runCli(
      ['eval', '--checkpoint', join(run, 'checkpoints', 'final'), '--config', 'hdf5', ...oneLiner, '--output', out, '--backend', 'cpu'],
      io,
    );
    expect(code, io.errors.join('\n')).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { test: Record<string, { correlation: number }> };
    const trained = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')) as { test: Record<string, { correlation: number }> };
    expect(metrics.test.test_movie!.correlation).toBeCloseTo(trained.test.test_movie!.correlation, 5);
    expect(readFileSync(join(out, 'summary.txt'), 'utf8')).toContain('Variance ratio cutoff: 0.15');
    expect(readFileSync(join(out, 'per_neuron_test_movie.csv'), 'utf8').split('\n')[0]).toContain('corr_to_average');
  }, 60_000);

  it('evaluates on the validation and training loaders (--split, +evaluation.data_split), and refuses an unknown split', async () => {
    for (const [flag, split] of [
      [['--split', 'validation'], 'validation'],
      [['+evaluation.data_split=train'], 'train'],
    ] as const) {
      const out = join(root, `eval_${split}`);
      const io = capture();
      const argv = [
        'eval',
        '--checkpoint',
        join(run, 'checkpoints', 'final'),
        '--config',
        'hdf5',
        ...oneLiner,
        ...flag,
        '--output',
        out,
        '--backend',
        'cpu',
      ];
      expect(await runCli(argv, io), io.errors.join('\n')).toBe(0);
      const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Record<
        string,
        Record<string, { correlation: number; n_neurons: number }>
      >;
      expect(Object.keys(metrics)).toContain(split);
      expect(metrics.test).toBeUndefined();
      expect(Number.isFinite(metrics[split]![split]!.correlation)).toBe(true);
      expect(metrics[split]![split]!.n_neurons).toBeGreaterThan(0);
      const header = readFileSync(join(out, `per_neuron_${split}.csv`), 'utf8').split('\n');
      expect(header[1]).toContain(`,${split},`); // data_split column
      expect(io.lines.join('\n')).toContain(`${split} correlation (${split})`);
    }
    const io = capture();
    const argv = [
      'eval',
      '--checkpoint',
      join(run, 'checkpoints', 'final'),
      '--config',
      'hdf5',
      ...oneLiner,
      '--split',
      'tset',
      '--output',
      join(root, 'e4'),
      '--backend',
      'cpu',
    ];
    expect(await runCli(argv, io)).toBe(1);
    expect(io.errors.join('\n')).toMatch(/Unknown split "tset": expected test, train, validation or a test split \(test_movie\)/);
  }, 120_000);

  it("a dataset whose sessions are not the model's: a clear error, exit 1", async () => {
    const io = capture();
    const overrides = oneLiner.map((o) => (o.startsWith('paths.data_dir=') ? `paths.data_dir=${otherSessions}` : o));
    const code = await runCli(
      [
        'eval',
        '--checkpoint',
        join(run, 'checkpoints', 'final'),
        '--config',
        'hdf5',
        ...overrides,
        '--output',
        join(root, 'e2'),
        '--backend',
        'cpu',
      ],
      io,
    );
    expect(code).toBe(1);
    expect(io.errors[0]).toMatch(/retina_1, retina_2.*not sessions of the model.*session_1, session_2/);
  }, 60_000);

  it('fine-tunes the readout of new sessions on a loaded model (paths.load_model_path, only_train_readout)', async () => {
    const io = capture();
    const overrides = oneLiner.map((o) => (o.startsWith('paths.data_dir=') ? `paths.data_dir=${otherSessions}` : o));
    const out = join(root, 'finetune');
    const code = await runCli(
      [
        'train',
        '--config',
        'hdf5',
        ...overrides,
        'trainer.max_epochs=1',
        '--report-meis=0',
        `+paths.load_model_path=${join(run, 'checkpoints', 'final')}`,
        '+only_train_readout=true',
        `paths.output_dir=${out}`,
        '--backend',
        'cpu',
        '--progress',
        'none',
      ],
      io,
    );
    expect(code, io.errors.join('\n')).toBe(0);
    expect(io.lines.join('\n')).toContain('added session(s) retina_1, retina_2');
    const card = JSON.parse(readFileSync(join(out, 'checkpoints', 'final', 'model.json'), 'utf8')) as {
      architecture: { n_neurons_dict: Record<string, number> };
    };
    expect(Object.keys(card.architecture.n_neurons_dict).sort()).toEqual(['retina_1', 'retina_2', 'session_1', 'session_2']);
  }, 60_000);

  it('bad config keys and values, missing files: clear errors, exit code 1', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--config', 'hdf5', 'model.no_such_key=3'], /model\.no_such_key/],
      [['train', '--config', 'hdf5', 'trainer.max_epochs=-1'], /trainer\.max_epochs/],
      [['train', '--config', 'hdf5', '+trainer.frobnicate=1'], /unknown key.*frobnicate/],
      [['train', '--config', join(root, 'missing.yaml')], /No config .*missing\.yaml/],
      [['train', '--config', 'hdf5', `paths.data_dir=${join(root, 'nowhere')}`, '--backend', 'cpu'], /nowhere is not a directory/],
      [
        ['eval', '--checkpoint', join(root, 'nope'), '--config', 'hdf5', ...oneLiner, '--output', join(root, 'e3'), '--backend', 'cpu'],
        /nope/,
      ],
    ];
    for (const [argv, message] of cases) {
      const io = capture();
      expect(await runCli(argv, io), argv.join(' ')).toBe(1);
      expect(io.errors.join('\n'), argv.join(' ')).toMatch(message);
    }
    const usage = capture();
    expect(await runCli(['train'], usage)).toBe(2);
    expect(usage.errors[0]).toContain('--config (or --config-name) is required');
    expect(await runCli(['train', '--config', 'hdf5', 'not-an-override'], capture())).toBe(1);
  }, 60_000);

  it("create-data writes OpenRetina's synthetic dataset", async () => {
    const dir = join(root, 'created');
    const io = capture();
    expect(
      await runCli(
        ['create-data', dir, '--num-colors', '2', '--num-stimuli', '2', '--num-sessions', '1', '--clip-length', '2', '--seed', '1'],
        io,
      ),
      io.errors.join('\n'),
    ).toBe(0);
    expect(existsSync(join(dir, 'stimuli', 'random_noise_1.npy'))).toBe(true);
    expect(existsSync(join(dir, 'session_0.hdf5'))).toBe(true);
    expect(await runCli(['create-data'], capture())).toBe(2);
    expect(await runCli(['create-data', dir, '--clip-length', '0'], capture())).toBe(2);
  });

  it('--help works for every command', async () => {
    for (const c of commands) {
      const io = capture();
      expect(await runCli([c.name, '--help'], io), c.name).toBe(0);
      expect(io.lines.join('\n'), c.name).toContain(`openretina ${c.name}`);
    }
    expect(commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(['train', 'eval', 'create-data', 'predict', 'export', 'download', 'mei', 'visualize']),
    );
  });
});
