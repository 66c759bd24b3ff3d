// Nothing silent, nothing lost: every failure is one `error [CODE]:` line, runs are never overwritten, non-finite
// inputs are refused, and the same seed (0 included) gives the same bytes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeNpy } from '@openretina/formats';
import { OPENRETINA_FIXTURES } from '@openretina/test-utils/fixtures';
import { runCli } from '../src/index.js';
import { LOCK_FILE } from '../src/run-lock.js';
import { capture, tinyHdf5Overrides, writeTinyDataset } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-reliability-'));
const data = join(root, 'lab');
const infData = join(root, 'lab-inf');
const stateDict = join(OPENRETINA_FIXTURES, 'state_dict.safetensors');
/** The same model as an OpenRetina .ckpt (what predict loads). */
const ckpt = join(OPENRETINA_FIXTURES, 'model.ckpt');
const aFile = join(root, 'a-file');
/** A folder nobody may write into: a read-only mode for ordinary users, /sys (read-only even for root) otherwise. */
const readOnly = process.getuid?.() === 0 ? '/sys/openretina-test' : join(root, 'read-only');

function trainArgs(dataDir: string, out: string, extra: string[] = []): string[] {
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

async function cli(args: string[]): Promise<{ code: number; lines: string[]; errors: string[] }> {
  const io = capture();
  const code = await runCli(args, io);
  return { code, lines: io.lines, errors: io.errors };
}

/** A failure as the brief asks: exit 1 (2 for usage), one `error [CODE]: message` line first, no stack trace. */
function expectCleanFailure(r: { code: number; errors: string[] }, label: string, code?: RegExp): void {
  expect([1, 2], `${label}: exit code ${r.code}; ${r.errors.join(' | ')}`).toContain(r.code);
  // warnings may come first; exactly one error line
  const lines = r.errors.filter((l) => l.startsWith('error ['));
  expect(lines, `${label}: ${r.errors.join(' | ')}`).toHaveLength(1);
  expect(lines[0], label).toMatch(/^error \[[A-Z_]+\]: \S/);
  if (code) expect(lines[0], label).toMatch(code);
  expect(r.errors.join('\n'), label).not.toMatch(/^\s+at /m);
}

beforeAll(async () => {
  await writeTinyDataset(data);
  await writeTinyDataset(infData, 'session', (s) => {
    const r = Object.values(s.sessions.session_1!.responses)[0]!;
    (r.data as Float32Array)[5] = Number.POSITIVE_INFINITY;
  });
  writeFileSync(aFile, 'not a folder');
  if (process.getuid?.() !== 0) mkdirSync(readOnly, { mode: 0o555 });
  const x = new Float32Array(1 * 2 * 40 * 18 * 16).fill(0.1);
  writeFileSync(join(root, 'x.npy'), serializeNpy(x, [1, 2, 40, 18, 16]));
  x[2 * 18 * 16 + 5] = Number.NaN; // channel 0, frame 2, row 0, column 5
  writeFileSync(join(root, 'x-nan.npy'), serializeNpy(x, [1, 2, 40, 18, 16]));
  writeFileSync(join(root, 'x-empty.npy'), serializeNpy(new Float32Array(0), [0, 2, 40, 18, 16]));
  writeFileSync(join(root, 'truncated.npy'), serializeNpy(new Float32Array(100), [100]).subarray(0, 90));
  const init = new Float32Array(2 * 50 * 18 * 16).fill(0.1);
  init[7] = Number.POSITIVE_INFINITY;
  writeFileSync(join(root, 'init-inf.npy'), serializeNpy(init, [1, 2, 50, 18, 16]));
}, 60_000);

describe('every failure is an `error [CODE]:` line (bad inputs and faults, every command)', () => {
  const x = () => join(root, 'x.npy');
  const table: [string, () => string[], RegExp?][] = [
    ['no command', () => ['frobnicate'], /USAGE/],
    ['--version is a command', () => ['--version', 'extra']],
    ['train: no config', () => ['train'], /USAGE/],
    ['train: unknown preset', () => ['train', '--config', 'no_such_preset'], /OPENRETINA_CONFIG/],
    ['train: unknown key', () => ['train', '--config', 'hdf5', 'model.no_such_key=1'], /OPENRETINA_CONFIG/],
    ['train: unknown option', () => ['train', '--config', 'hdf5', '--frobnicate', '1'], /USAGE/],
    ['train: --resume of a folder without a run', () => ['train', '--resume', join(root, 'nothing-here')]],
    ['train: output under a file', () => trainArgs(data, join(aFile, 'run')), /ENOTDIR|EEXIST|CONFIG/],
    ['train: read-only output', () => trainArgs(data, join(readOnly, 'run')), /EACCES|EROFS|EPERM/],
    ['train: Inf in the responses', () => trainArgs(infData, join(root, 'inf-run')), /OPENRETINA_DATA/],
    ['eval: no output', () => ['eval', '--config', 'hdf5'], /USAGE/],
    [
      'eval: missing checkpoint',
      () => ['eval', '--config', 'hdf5', ...tinyHdf5Overrides(data, 1), '--checkpoint', join(root, 'none'), '--output', join(root, 'ev')],
    ],
    ['predict: missing options', () => ['predict', '--input', x()], /USAGE/],
    ['predict: missing input', () => ['predict', '--checkpoint', ckpt, '--input', join(root, 'none.npy'), '--output', join(root, 'y.npy')]],
    [
      'predict: truncated .npy',
      () => ['predict', '--checkpoint', ckpt, '--input', join(root, 'truncated.npy'), '--output', join(root, 'y.npy')],
    ],
    [
      'predict: NaN stimulus',
      () => ['predict', '--checkpoint', ckpt, '--input', join(root, 'x-nan.npy'), '--output', join(root, 'y.npy')],
      /OPENRETINA_DATA.*x-nan\.npy.*\[0, 0, 2, 0, 5\]/,
    ],
    [
      'predict: batch of 0',
      () => ['predict', '--checkpoint', ckpt, '--input', join(root, 'x-empty.npy'), '--output', join(root, 'y.npy')],
      /OPENRETINA_SHAPE/,
    ],
    ['predict: output = input', () => ['predict', '--checkpoint', ckpt, '--input', x(), '--output', x()], /OPENRETINA_CONFIG/],
    ['predict: output is a folder', () => ['predict', '--checkpoint', ckpt, '--input', x(), '--output', root, '--backend', 'cpu']],
    [
      'predict: output under a file',
      () => ['predict', '--checkpoint', ckpt, '--input', x(), '--output', join(aFile, 'y.npy'), '--backend', 'cpu'],
      /ENOTDIR|EEXIST/,
    ],
    [
      'predict: read-only output',
      () => ['predict', '--checkpoint', ckpt, '--input', x(), '--output', join(readOnly, 'y.npy'), '--backend', 'cpu'],
      /EACCES|EROFS|EPERM|ENOENT/,
    ],
    ['mei: missing options', () => ['mei', '--neuron', '1'], /USAGE/],
    [
      'mei: no --session with several',
      () => ['mei', '--checkpoint', stateDict, '--neuron', '1', '--output', join(root, 'm.npy'), '--backend', 'cpu'],
      /USAGE/,
    ],
    [
      'mei: huge --frames',
      () => [
        'mei',
        '--checkpoint',
        stateDict,
        '--session',
        'session_1',
        '--neuron',
        '1',
        '--frames',
        '100000000',
        '--output',
        join(root, 'm.npy'),
        '--backend',
        'cpu',
      ],
      /USAGE/,
    ],
    [
      'mei: neuron out of range',
      () => [
        'mei',
        '--checkpoint',
        stateDict,
        '--session',
        'session_1',
        '--neuron',
        '999',
        '--output',
        join(root, 'm.npy'),
        '--backend',
        'cpu',
      ],
      /OPENRETINA_CONFIG/,
    ],
    [
      'mei: Inf --init',
      () => [
        'mei',
        '--checkpoint',
        stateDict,
        '--session',
        'session_1',
        '--neuron',
        '1',
        '--init',
        join(root, 'init-inf.npy'),
        '--output',
        join(root, 'm.npy'),
        '--backend',
        'cpu',
      ],
      /OPENRETINA_DATA.*init-inf\.npy/,
    ],
    [
      'mei: --lr 1e300',
      () => [
        'mei',
        '--checkpoint',
        stateDict,
        '--session',
        'session_1',
        '--neuron',
        '1',
        '--lr',
        '1e300',
        '--steps',
        '3',
        '--frames',
        '40',
        '--output',
        join(root, 'm-lr.npy'),
        '--backend',
        'cpu',
      ],
      /OPENRETINA_DATA/,
    ],
    [
      'mei: output under a file',
      () => [
        'mei',
        '--checkpoint',
        stateDict,
        '--session',
        'session_1',
        '--neuron',
        '1',
        '--steps',
        '1',
        '--frames',
        '40',
        '--output',
        join(aFile, 'm.npy'),
        '--backend',
        'cpu',
      ],
      /ENOTDIR|EEXIST/,
    ],
    ['visualize: missing options', () => ['visualize'], /USAGE/],
    ['export: missing options', () => ['export'], /USAGE/],
    ['export: missing checkpoint', () => ['export', '--checkpoint', join(root, 'none'), '--output', join(root, 'm.onnx')]],
    ['download: no name', () => ['download'], /USAGE/],
    ['download: unknown name', () => ['download', 'no_such_model'], /USAGE/],
    ['create-data: negative seed', () => ['create-data', join(root, 'cd'), '--seed', '-1'], /USAGE/],
    ['create-data: under a file', () => ['create-data', join(aFile, 'cd'), '--clip-length', '2'], /ENOTDIR|EEXIST/],
    ['demo: too few frames', () => ['demo', '--frames', '10'], /USAGE/],
    ['presets: an argument', () => ['presets', 'extra'], /USAGE/],
  ];
  for (const [label, args, code] of table) {
    it(label, async () => {
      const r = await cli(args());
      if (label === '--version is a command') {
        // `--version` ignores what follows it and answers
        expect(r.code).toBe(0);
        return;
      }
      expectCleanFailure(r, label, code);
    }, 120_000);
  }

  it('writes nothing when it fails: no MEI from a diverging run, no output next to a refused predict', () => {
    expect(existsSync(join(root, 'm-lr.npy'))).toBe(false);
    expect(existsSync(join(root, 'y.npy'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('runs are never overwritten', () => {
  const run = join(root, 'run');

  it('refuses a folder that holds a run, keeps its files, and replaces it only with --overwrite', async () => {
    expect((await cli(trainArgs(data, run))).code).toBe(0);
    const metrics = readFileSync(join(run, 'metrics.json'));
    const again = await cli(trainArgs(data, run));
    expectCleanFailure(again, 'second train', /OPENRETINA_CONFIG.*already holds a run.*--overwrite/);
    expect(readFileSync(join(run, 'metrics.json'))).toEqual(metrics);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
    const replaced = await cli(trainArgs(data, run, ['--overwrite']));
    expect(replaced.code, replaced.errors.join('\n')).toBe(0);
  }, 240_000);

  it('eval --output RUN_DIR writes RUN_DIR/evaluation and leaves the run files alone', async () => {
    const before = readFileSync(join(run, 'metrics.json'));
    const r = await cli([
      'eval',
      '--config',
      'hdf5',
      ...tinyHdf5Overrides(data, 1),
      '--checkpoint',
      join(run, 'checkpoints', 'final'),
      '--output',
      run,
      '--backend',
      'cpu',
    ]);
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(readFileSync(join(run, 'metrics.json'))).toEqual(before);
    expect(existsSync(join(run, 'evaluation', 'metrics.json'))).toBe(true);
  }, 120_000);

  it('keeps a second process out of a locked folder, and takes over the lock of a dead process', async () => {
    const locked = join(root, 'locked');
    mkdirSync(locked);
    writeFileSync(join(locked, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: 'now' }));
    expectCleanFailure(await cli(trainArgs(data, locked)), 'locked', new RegExp(`in use by process ${process.pid}`));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(locked, LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: 'then' }));
    const r = await cli(trainArgs(data, locked));
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(existsSync(join(locked, LOCK_FILE))).toBe(false);
  }, 240_000);
});

describe('the same seed gives the same bytes (seed 0 included)', () => {
  async function mei(seed: string, out: string): Promise<Buffer> {
    const r = await cli([
      'mei',
      '--checkpoint',
      stateDict,
      '--session',
      'session_1',
      '--neuron',
      '3',
      '--frames',
      '40',
      '--steps',
      '3',
      '--seed',
      seed,
      '--no-visuals',
      '--engine',
      'tfjs',
      '--backend',
      'cpu',
      '--output',
      out,
    ]);
    expect(r.code, r.errors.join('\n')).toBe(0);
    return readFileSync(out);
  }

  it('mei', async () => {
    const a = await mei('0', join(root, 'seed0-a.npy'));
    const b = await mei('0', join(root, 'seed0-b.npy'));
    const c = await mei('1', join(root, 'seed1.npy'));
    expect(b.equals(a)).toBe(true);
    expect(c.equals(a)).toBe(false); // the seed matters
  }, 120_000);

  it('train (the weights of two runs with seed=0)', async () => {
    const other = join(root, 'run-again');
    expect((await cli(trainArgs(data, other))).code).toBe(0);
    for (const c of ['best', 'last', 'final']) {
      const a = readFileSync(join(root, 'run', 'checkpoints', c, 'model.safetensors'));
      expect(readFileSync(join(other, 'checkpoints', c, 'model.safetensors')).equals(a), c).toBe(true);
    }
  }, 240_000);

  it('create-data', async () => {
    for (const d of ['cd-a', 'cd-b']) expect((await cli(['create-data', join(root, d), '--clip-length', '2', '--seed', '0'])).code).toBe(0);
    // the .npy stimuli byte for byte (HDF5 files carry their objects' modification times, so their bytes differ)
    for (const f of readdirSync(join(root, 'cd-a', 'stimuli'))) {
      expect(f).toMatch(/\.npy$/);
      expect(readFileSync(join(root, 'cd-b', 'stimuli', f)).equals(readFileSync(join(root, 'cd-a', 'stimuli', f))), f).toBe(true);
    }
  }, 120_000);
});
