// Nothing silent, nothing lost: every failure is one `error [CODE]:` line, runs are never overwritten, non-finite
// inputs are refused, and the same seed (0 included) gives the same bytes.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeNpy } from '@openretina/formats';
import { OPENRETINA_FIXTURES } from '@openretina/test-utils/fixtures';
import { LOCK_FILE } from '../src/run-lock.js';
import { expectCleanFailure, runCaptured, tinyHdf5Overrides, tinyTrainArgs, writeTinyDataset } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'openretina-reliability-'));
const data = join(root, 'lab');
const infData = join(root, 'lab-inf');
const stateDict = join(OPENRETINA_FIXTURES, 'state_dict.safetensors');
/** The same model as an OpenRetina .ckpt (what predict loads). */
const ckpt = join(OPENRETINA_FIXTURES, 'model.ckpt');
const aFile = join(root, 'a-file');
/** A folder nobody may write into: a read-only mode for ordinary users, /sys (read-only even for root) otherwise. */
const readOnly = process.getuid?.() === 0 ? '/sys/openretina-test' : join(root, 'read-only');

/** Every file under `dir` by relative path, with its bytes. */
function treeBytes(dir: string): Map<string, Buffer> {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
  return new Map(files.map((f) => [f, readFileSync(join(dir, f))]));
}

/** The same files with the same bytes. */
function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [f, bytes] of expected) expect(actual.get(f)!.equals(bytes), f).toBe(true);
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

/** Options of a command line: `--name value` each; an undefined value leaves the option out. */
type Options = Record<string, string | undefined>;

/** The command line `command [positionals] --name value …`. */
function argv(command: string | string[], options: Options = {}): string[] {
  return [...[command].flat(), ...Object.entries(options).flatMap(([name, value]) => (value === undefined ? [] : [`--${name}`, value]))];
}

/** One row of the table: a command line and the `error [CODE]` it must fail with (`exitsOk`: it must succeed). */
interface FailureCase {
  label: string;
  args: () => string[];
  code?: RegExp;
  exitsOk?: true;
}

describe('every failure is an `error [CODE]:` line (bad inputs and faults, every command)', () => {
  const x = () => join(root, 'x.npy');
  const predict = (o: Options) => argv('predict', { checkpoint: ckpt, input: x(), output: join(root, 'y.npy'), ...o });
  const mei = (o: Options) =>
    argv('mei', { checkpoint: stateDict, session: 'session_1', neuron: '1', output: join(root, 'm.npy'), backend: 'cpu', ...o });
  const evalArgs = (o: Options) => [...argv('eval', { config: 'hdf5', ...o }), ...tinyHdf5Overrides(data, 1)];
  const table: FailureCase[] = [
    { label: 'no command', args: () => ['frobnicate'], code: /USAGE/ },
    { label: '--version is a command', args: () => ['--version', 'extra'], exitsOk: true }, // it ignores what follows
    { label: 'train: no config', args: () => ['train'], code: /USAGE/ },
    { label: 'train: unknown preset', args: () => argv('train', { config: 'no_such_preset' }), code: /OPENRETINA_CONFIG/ },
    { label: 'train: unknown key', args: () => [...argv('train', { config: 'hdf5' }), 'model.no_such_key=1'], code: /OPENRETINA_CONFIG/ },
    { label: 'train: unknown option', args: () => argv('train', { config: 'hdf5', frobnicate: '1' }), code: /USAGE/ },
    { label: 'train: --resume of a folder without a run', args: () => argv('train', { resume: join(root, 'nothing-here') }) },
    { label: 'train: output under a file', args: () => tinyTrainArgs(data, join(aFile, 'run')), code: /ENOTDIR|EEXIST|CONFIG/ },
    { label: 'train: read-only output', args: () => tinyTrainArgs(data, join(readOnly, 'run')), code: /EACCES|EROFS|EPERM/ },
    { label: 'train: Inf in the responses', args: () => tinyTrainArgs(infData, join(root, 'inf-run')), code: /OPENRETINA_DATA/ },
    { label: 'eval: no output', args: () => argv('eval', { config: 'hdf5' }), code: /USAGE/ },
    { label: 'eval: missing checkpoint', args: () => evalArgs({ checkpoint: join(root, 'none'), output: join(root, 'ev') }) },
    { label: 'predict: missing options', args: () => argv('predict', { input: x() }), code: /USAGE/ },
    { label: 'predict: missing input', args: () => predict({ input: join(root, 'none.npy') }) },
    { label: 'predict: truncated .npy', args: () => predict({ input: join(root, 'truncated.npy') }) },
    {
      label: 'predict: NaN stimulus',
      args: () => predict({ input: join(root, 'x-nan.npy') }),
      code: /OPENRETINA_DATA.*x-nan\.npy.*\[0, 0, 2, 0, 5\]/,
    },
    { label: 'predict: batch of 0', args: () => predict({ input: join(root, 'x-empty.npy') }), code: /OPENRETINA_SHAPE/ },
    { label: 'predict: output = input', args: () => predict({ output: x() }), code: /OPENRETINA_CONFIG/ },
    { label: 'predict: output is a folder', args: () => predict({ output: root, backend: 'cpu' }) },
    {
      label: 'predict: output under a file',
      args: () => predict({ output: join(aFile, 'y.npy'), backend: 'cpu' }),
      code: /ENOTDIR|EEXIST/,
    },
    {
      label: 'predict: read-only output',
      args: () => predict({ output: join(readOnly, 'y.npy'), backend: 'cpu' }),
      code: /EACCES|EROFS|EPERM|ENOENT/,
    },
    { label: 'mei: missing options', args: () => argv('mei', { neuron: '1' }), code: /USAGE/ },
    { label: 'mei: no --session with several', args: () => mei({ session: undefined }), code: /USAGE/ },
    { label: 'mei: huge --frames', args: () => mei({ frames: '100000000' }), code: /USAGE/ },
    { label: 'mei: neuron out of range', args: () => mei({ neuron: '999' }), code: /OPENRETINA_CONFIG/ },
    { label: 'mei: Inf --init', args: () => mei({ init: join(root, 'init-inf.npy') }), code: /OPENRETINA_DATA.*init-inf\.npy/ },
    {
      label: 'mei: --lr 1e300',
      args: () => mei({ lr: '1e300', steps: '3', frames: '40', output: join(root, 'm-lr.npy') }),
      code: /OPENRETINA_DATA/,
    },
    {
      label: 'mei: output under a file',
      args: () => mei({ steps: '1', frames: '40', output: join(aFile, 'm.npy') }),
      code: /ENOTDIR|EEXIST/,
    },
    { label: 'visualize: missing options', args: () => ['visualize'], code: /USAGE/ },
    { label: 'export: missing options', args: () => ['export'], code: /USAGE/ },
    { label: 'export: missing checkpoint', args: () => argv('export', { checkpoint: join(root, 'none'), output: join(root, 'm.onnx') }) },
    { label: 'download: no name', args: () => ['download'], code: /USAGE/ },
    { label: 'download: unknown name', args: () => ['download', 'no_such_model'], code: /USAGE/ },
    { label: 'create-data: negative seed', args: () => argv(['create-data', join(root, 'cd')], { seed: '-1' }), code: /USAGE/ },
    {
      label: 'create-data: under a file',
      args: () => argv(['create-data', join(aFile, 'cd')], { 'clip-length': '2' }),
      code: /ENOTDIR|EEXIST/,
    },
    { label: 'demo: too few frames', args: () => argv('demo', { frames: '10' }), code: /USAGE/ },
    { label: 'presets: an argument', args: () => ['presets', 'extra'], code: /USAGE/ },
  ];
  for (const { label, args, code, exitsOk } of table) {
    it(label, async () => {
      const r = await runCaptured(args());
      if (exitsOk) expect(r.code, r.errors.join('\n')).toBe(0);
      else expectCleanFailure(r, label, code);
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
    expect((await runCaptured(tinyTrainArgs(data, run))).code).toBe(0);
    const metrics = readFileSync(join(run, 'metrics.json'));
    const again = await runCaptured(tinyTrainArgs(data, run));
    expectCleanFailure(again, 'second train', /OPENRETINA_CONFIG.*already holds a run.*--overwrite/);
    expect(readFileSync(join(run, 'metrics.json'))).toEqual(metrics);
    expect(existsSync(join(run, LOCK_FILE))).toBe(false);
    const replaced = await runCaptured(tinyTrainArgs(data, run, ['--overwrite']));
    expect(replaced.code, replaced.errors.join('\n')).toBe(0);
  }, 240_000);

  it('eval --output RUN_DIR writes RUN_DIR/evaluation and leaves the run files alone', async () => {
    const before = readFileSync(join(run, 'metrics.json'));
    const r = await runCaptured([
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
    expectCleanFailure(await runCaptured(tinyTrainArgs(data, locked)), 'locked', new RegExp(`in use by process ${process.pid}`));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(locked, LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: 'then' }));
    const r = await runCaptured(tinyTrainArgs(data, locked));
    expect(r.code, r.errors.join('\n')).toBe(0);
    expect(existsSync(join(locked, LOCK_FILE))).toBe(false);
  }, 240_000);
});

describe('the same seed gives the same bytes (seed 0 included)', () => {
  async function mei(seed: string, out: string): Promise<Buffer> {
    const options = {
      checkpoint: stateDict,
      session: 'session_1',
      neuron: '3',
      frames: '40',
      steps: '3',
      seed,
      engine: 'tfjs',
      backend: 'cpu',
      output: out,
    };
    const r = await runCaptured([...argv('mei', options), '--no-visuals']);
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
    expect((await runCaptured(tinyTrainArgs(data, other))).code).toBe(0);
    for (const c of ['best', 'last', 'final']) {
      const a = readFileSync(join(root, 'run', 'checkpoints', c, 'model.safetensors'));
      expect(readFileSync(join(other, 'checkpoints', c, 'model.safetensors')).equals(a), c).toBe(true);
    }
  }, 240_000);

  it('create-data (every file: the .npy stimuli and the HDF5 sessions)', async () => {
    for (const d of ['cd-a', 'cd-b'])
      expect((await runCaptured(['create-data', join(root, d), '--clip-length', '2', '--seed', '0'])).code).toBe(0);
    const files = treeBytes(join(root, 'cd-a'));
    expect([...files.keys()].some((f) => /\.(h5|hdf5)$/.test(f))).toBe(true);
    expect([...files.keys()].some((f) => f.endsWith('.npy'))).toBe(true);
    expectSameFiles(treeBytes(join(root, 'cd-b')), files);
  }, 120_000);

  it('visualize (every file of the gallery)', async () => {
    const gallery = async (out: string) => {
      const r = await runCaptured(
        argv('visualize', {
          checkpoint: stateDict,
          output: out,
          session: 'session_1',
          frames: '40',
          steps: '2',
          'max-channels': '1',
          'max-neurons': '1',
          animation: 'gif',
          engine: 'tfjs',
          backend: 'cpu',
          seed: '0',
        }),
      );
      expect(r.code, r.errors.join('\n')).toBe(0);
      return treeBytes(out);
    };
    const a = await gallery(join(root, 'vis-a'));
    expect([...a.keys()]).toContain('index.html');
    expect([...a.keys()].some((f) => f.endsWith('.gif'))).toBe(true);
    expectSameFiles(await gallery(join(root, 'vis-b')), a);
  }, 300_000);
});
