// The CLI's compute-engine choice (--engine / trainer.engine), trainer.accumulate_grad_batches and model.loss /
// model.evaluation_loss.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy, toFloat32 } from '@openretina/formats';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import { runCli } from '../src/index.js';
import { capture, tinyHdf5Overrides, writeTinyDataset } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-engine-cli-'));
const data = join(root, 'lab');

const overrides = tinyHdf5Overrides(data, 3);

beforeAll(async () => {
  await writeTinyDataset(data);
});

type Metrics = {
  test: Record<string, { correlation: number; poisson_loss: number; mse: number }>;
  history: Record<string, number>[];
  engine: string;
  loss: string;
  evaluation_loss: string;
};
const readMetrics = (dir: string): Metrics => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Metrics;

async function train(name: string, extra: string[], expectCode = 0): Promise<{ io: ReturnType<typeof capture>; dir: string }> {
  const io = capture();
  const dir = join(root, name);
  const code = await runCli(
    [
      'train',
      '--config',
      'hdf5',
      ...overrides,
      ...extra,
      `paths.output_dir=${dir}`,
      '--backend',
      'cpu',
      '--progress',
      'none',
      '--report-meis',
      '0',
    ],
    io,
  );
  expect(code, io.errors.join('\n')).toBe(expectCode);
  return { io, dir };
}

// A higher learning rate, so that the responses vary over time after a few steps: the correlation of a nearly
// constant prediction is ill-conditioned (float32 rounding of the output, ≈1e-7, becomes ≈1e-4 in the correlation).
const SHARP = ['model.learning_rate=0.05', 'trainer.max_epochs=3'];

describe('openretina train: --engine auto|onnx|tfjs', () => {
  it('ONNX Runtime and TF.js give the same run (losses, validation, test metrics within 1e-4); trainer.engine works as a config key', async () => {
    const onnx = await train('onnx', ['--engine', 'onnx', ...SHARP]);
    expect(onnx.io.lines).toContain('engine: onnx (requested)');
    // the config key (no "+" needed), overridden by --engine where both are given
    const tfjs = await train('tfjs', ['trainer.engine=tfjs', ...SHARP]);
    expect(tfjs.io.lines).toContain('engine: tfjs (requested)');
    const a = readMetrics(onnx.dir);
    const b = readMetrics(tfjs.dir);
    expect([a.engine, b.engine]).toEqual(['onnx', 'tfjs']);
    expect(a.history).toHaveLength(3);
    let worst = 0;
    for (let e = 0; e < 3; e++) {
      for (const k of [
        'train_total_loss',
        'train_loss',
        'regularization_loss_core',
        'regularization_loss_readout',
        'val_loss',
        'val_total_loss',
        'val_evaluation_loss',
      ]) {
        const x = a.history[e]![k]!;
        const y = b.history[e]![k]!;
        const err = Math.abs(x - y) / Math.max(1, Math.abs(y));
        worst = Math.max(worst, err);
        expect(err, `${k} epoch ${e}`).toBeLessThan(1e-4);
      }
    }
    for (const k of ['correlation', 'poisson_loss', 'mse'] as const) {
      const err = Math.abs(a.test.test_movie![k] - b.test.test_movie![k]) / Math.max(1, Math.abs(b.test.test_movie![k]));
      worst = Math.max(worst, err);
      expect(err, k).toBeLessThan(1e-4);
    }
    console.log('train --engine onnx vs tfjs: largest difference', worst);

    const auto = await train('auto', ['trainer.engine=tfjs', '--engine', 'auto', 'trainer.max_epochs=1']);
    expect(
      auto.io.lines.some((l) =>
        /^engine: (onnx \(auto: ONNX Runtime covers this model|tfjs \(auto: onnxruntime-node is not available)/.test(l),
      ),
    ).toBe(true);
    const bad = await train('bad', ['trainer.engine=fast'], 1);
    expect(bad.io.errors.join('\n')).toMatch(/trainer\.engine/);
  }, 180_000);

  it('eval --engine onnx and tfjs give the same test metrics', async () => {
    const ckpt = join(root, 'onnx', 'checkpoints', 'final');
    const results: Metrics[] = [];
    for (const engine of ['onnx', 'tfjs']) {
      const io = capture();
      const out = join(root, `eval-${engine}`);
      expect(
        await runCli(
          ['eval', '--checkpoint', ckpt, '--config', 'hdf5', ...overrides, '--output', out, '--backend', 'cpu', '--engine', engine],
          io,
        ),
        io.errors.join('\n'),
      ).toBe(0);
      expect(io.lines).toContain(`engine: ${engine} (requested)`);
      results.push(readMetrics(out));
    }
    const diff = Math.abs(results[0]!.test.test_movie!.correlation - results[1]!.test.test_movie!.correlation);
    console.log('eval --engine onnx vs tfjs: test correlation difference', diff);
    expect(diff).toBeLessThan(1e-5);
    expect(results[0]!.test.test_movie!.correlation).toBeCloseTo(readMetrics(join(root, 'onnx')).test.test_movie!.correlation, 5);
  }, 60_000);
});

describe('openretina train: trainer.accumulate_grad_batches', () => {
  it('steps once per k batches (and for a last partial group), without a warning', async () => {
    const { io, dir } = await train('accumulate', ['trainer.accumulate_grad_batches=2']);
    expect(io.errors.filter((e) => /accumulate/.test(e))).toEqual([]);
    expect(io.lines.join('\n')).toContain('gradients accumulated over 2 batches');
    // 3 batches per epoch, k = 2: steps after batches 2 and 3
    expect(readMetrics(dir).history.map((h) => h.step)).toEqual([2, 4]);
  }, 60_000);
});

describe('openretina train: model.loss and model.evaluation_loss', () => {
  it('L1PoissonLoss3d trains on TF.js under auto (with the reason), and is refused by --engine onnx', async () => {
    const l1 = '++model.loss={_target_: openretina.modules.losses.poisson.L1PoissonLoss3d, gamma_l1: 0.001}';
    const { io, dir } = await train('l1', [l1, 'trainer.max_epochs=1']);
    expect(io.lines).toContain('loss: L1PoissonLoss3d, evaluation loss: CorrelationLoss3d');
    expect(io.lines.find((l) => l.startsWith('engine:'))).toMatch(
      /^engine: tfjs \(auto: the ONNX graphs compute only the default loss PoissonLoss3d/,
    );
    expect(io.errors.filter((e) => /loss/.test(e))).toEqual([]);
    const m = readMetrics(dir);
    expect(m.loss).toBe('L1PoissonLoss3d');
    expect(Number.isFinite(m.history[0]!.train_loss)).toBe(true);
    const refused = await train('l1-onnx', [l1, 'trainer.max_epochs=1', '--engine', 'onnx'], 1);
    expect(refused.io.errors.join('\n')).toMatch(/engine "onnx".*only the default loss/);
  }, 60_000);

  it('PoissonLoss3d(avg) as the evaluation loss (goldin): val_evaluation_loss is the mean Poisson loss, best = min', async () => {
    const { io, dir } = await train('goldin-like', [
      '++model.evaluation_loss={_target_: openretina.modules.losses.poisson.PoissonLoss3d, avg: true}',
      'training_callbacks.model_checkpoint.mode=min',
    ]);
    expect(io.lines).toContain('loss: PoissonLoss3d, evaluation loss: PoissonLoss3d');
    const m = readMetrics(dir);
    const h = m.history;
    // the validation batches share one shape [B, T, N] per session; the mean Poisson loss is then the sum / (B·T·N), and
    // val_loss is the sum / (B + T + N): both are the same Poisson sum, so their ratio is positive and equal across epochs
    expect(h[0]!.val_evaluation_loss).not.toBeCloseTo(h[0]!.val_loss!, 3);
    const best = (JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { best: { score: number; epoch: number } }).best;
    expect(best.score).toBe(Math.min(...h.map((r) => r.val_evaluation_loss!)));
  }, 60_000);

  it('unsupported losses, per-neuron losses and cell-type losses without cell types: clear errors, exit 1', async () => {
    const cases: [string, RegExp][] = [
      [
        '++model.loss={_target_: torch.nn.HuberLoss}',
        /model\.loss\._target_: unknown _target_ "torch\.nn\.HuberLoss" \(accepted: .*PoissonLoss3d/,
      ],
      ['++model.loss={_target_: openretina.modules.losses.poisson.PoissonLoss3d, per_neuron: true}', /per_neuron=true/],
      [
        '++model.loss={_target_: openretina.modules.losses.poisson.PoissonLoss3d, gamma: 1}',
        /model\.loss\.gamma: unknown key "gamma" \(accepted keys of model\.loss: .*avg/,
      ],
      [
        '++model.loss={_target_: openretina.modules.losses.poisson.CelltypePoissonLoss3d}',
        /group_assignment.*missing for session_1, session_2/,
      ],
    ];
    for (const [o, message] of cases) {
      const { io } = await train('bad-loss', [o], 1);
      expect(io.errors.join('\n'), o).toMatch(message);
    }
  }, 60_000);
});

describe('openretina mei / predict --engine', () => {
  it("mei --engine onnx and --engine tfjs reproduce OpenRetina's MEI within 1e-4", async () => {
    const init = ref('mei/stimulus_init');
    writeFileSync(join(root, 'init.npy'), serializeNpy(init.data as Float32Array, init.shape));
    const expected = ref('mei/stimulus_final').data as Float32Array;
    for (const engine of ['onnx', 'tfjs']) {
      const io = capture();
      const out = join(root, `mei-${engine}.npy`);
      const args = [
        '--checkpoint',
        join(OPENRETINA_FIXTURES, 'state_dict.safetensors'),
        '--session',
        'session_2',
        '--neuron',
        '7',
        '--init',
        join(root, 'init.npy'),
        '--preset',
        'openretina',
      ];
      expect(await runCli(['mei', ...args, '--output', out, '--no-visuals', '--engine', engine], io), io.errors.join('\n')).toBe(0);
      expect(io.lines).toContain(`engine: ${engine} (requested)`);
      expect(io.lines.some((l) => l.endsWith(`(model gradient: ${engine})`))).toBe(true);
      const err = relativeError(toFloat32(parseNpy(new Uint8Array(readFileSync(out))).data), expected);
      console.log(`mei --engine ${engine}: relative error to OpenRetina's MEI`, err);
      expect(err).toBeLessThan(1e-4);
    }
  }, 60_000);

  it('predict --engine onnx and tfjs reproduce the fixture outputs (one session and all sessions)', async () => {
    const x = ref('input/x');
    const input = join(root, 'x.npy');
    writeFileSync(input, serializeNpy(x.data as Float32Array, x.shape));
    const ckpt = join(OPENRETINA_FIXTURES, 'model.ckpt');
    for (const engine of ['onnx', 'tfjs']) {
      const io = capture();
      const one = join(root, `y2-${engine}.npy`);
      expect(
        await runCli(
          ['predict', '--checkpoint', ckpt, '--input', input, '--session', 'session_2', '--output', one, '--engine', engine],
          io,
        ),
        io.errors.join('\n'),
      ).toBe(0);
      expect(io.lines).toContain(`engine: ${engine} (requested)`);
      expect(
        relativeError(toFloat32(parseNpy(new Uint8Array(readFileSync(one))).data), ref('eval/out/session_2').data as Float32Array),
      ).toBeLessThan(1e-5);
      const all = join(root, `yall-${engine}.npy`);
      expect(await runCli(['predict', '--checkpoint', ckpt, '--input', input, '--output', all, '--engine', engine], capture())).toBe(0);
      expect(
        relativeError(
          toFloat32(parseNpy(new Uint8Array(readFileSync(all))).data),
          ref('eval/out/all_sessions_concat').data as Float32Array,
        ),
      ).toBeLessThan(1e-5);
    }
    const io = capture();
    expect(await runCli(['predict', '--checkpoint', ckpt, '--input', input, '--output', join(root, 'z.npy'), '--engine', 'gpu'], io)).toBe(
      2, // a usage error: --engine's values are in the help
    );
    expect(io.errors.join('\n')).toMatch(/--engine must be auto, onnx or tfjs/);
  }, 60_000);
});
