// Fault injection on a real CLI process: SIGKILL during training, then `train --resume` ends where the uninterrupted
// run ends (same epochs, same metrics), with nothing half-written left behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@openretina/hub/node';
import { runCli } from '../src/index.js';
import { LOCK_FILE } from '../src/run-lock.js';
import { capture, tinyHdf5Overrides, writeTinyDataset } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'openretina-resume-'));
const data = join(root, 'lab');
const EPOCHS = 4;

function args(out: string): string[] {
  return [
    'train',
    '--config',
    'hdf5',
    ...tinyHdf5Overrides(data, 2).filter((o) => !o.startsWith('trainer.max_epochs=')),
    `trainer.max_epochs=${EPOCHS}`,
    '~training_callbacks.early_stopping',
    'seed=0',
    `paths.output_dir=${out}`,
    '--backend',
    'cpu',
    '--engine',
    'tfjs',
    '--progress',
    'none',
    '--report-meis',
    '0',
  ];
}

/** metrics.csv as rows of numbers by column (epoch_seconds dropped: it is a time). */
function metricRows(dir: string): Record<string, number>[] {
  const [head, ...lines] = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => {
    const v = l.split(',').map(Number);
    return Object.fromEntries(cols.flatMap((c, i) => (c === 'epoch_seconds' ? [] : [[c, v[i]!]])));
  });
}

/** Epochs in metrics.csv so far. */
function csvEpochs(dir: string): number {
  const csv = join(dir, 'metrics.csv');
  return existsSync(csv) ? readFileSync(csv, 'utf8').trim().split('\n').length - 1 : 0;
}

/** Runs the CLI in a child process (with `env` added) and SIGKILLs it as soon as `killNow()` says so. */
function trainAndKill(out: string, killNow: () => boolean, env: NodeJS.ProcessEnv = {}): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args(out)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const poll = setInterval(() => {
      if (killNow()) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 10);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL') resolve({ killed: true });
      else if (code === 0) resolve({ killed: false });
      else reject(new Error(`the training process failed (${code}): ${stderr}`));
    });
  });
}

beforeAll(async () => {
  await writeTinyDataset(data);
}, 60_000);

describe('train --resume after kill -9', () => {
  it('continues a killed run to the same epochs and metrics as an uninterrupted run', async () => {
    const killedRun = join(root, 'killed');
    const { killed } = await trainAndKill(killedRun, () => csvEpochs(killedRun) > 1);
    expect(killed, 'the run was killed before it finished').toBe(true);
    // what a kill leaves: whole files only (no temp files, no half-written checkpoint folders)
    const leftovers = readdirSync(killedRun, { recursive: true }) as string[];
    expect(leftovers.filter((f) => /\.tmp|\.partial|staging/.test(f))).toEqual([]);
    const done = metricRows(killedRun).length;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(EPOCHS);

    const resumed = capture();
    const code = await runCli(['train', '--resume', killedRun, '--progress', 'none', '--report-meis', '0'], resumed);
    expect(code, resumed.errors.join('\n')).toBe(0);
    expect(resumed.lines.join('\n')).toMatch(/resuming after epoch \d/);
    // on the engine and backend the killed run used (run-engine.json), without saying them again
    expect(resumed.lines).toContain('engine: tfjs (requested)');
    expect(resumed.lines.join('\n')).toMatch(/backend: cpu/);
    expect(existsSync(join(killedRun, LOCK_FILE))).toBe(false);

    const straight = join(root, 'straight');
    const io = capture();
    expect(await runCli(args(straight), io), io.errors.join('\n')).toBe(0);

    const a = metricRows(killedRun);
    const b = metricRows(straight);
    expect(a.length).toBe(EPOCHS);
    expect(a.map((r) => r.epoch)).toEqual(b.map((r) => r.epoch));
    for (let i = 0; i < b.length; i++) {
      // float tolerance: relative 1e-5 (float32 sums in another order may differ in the last bits)
      for (const [k, v] of Object.entries(b[i]!))
        expect(Math.abs(a[i]![k]! - v), `epoch ${i} ${k}: ${a[i]![k]} vs ${v}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
    }
    type Metrics = { best: { epoch: number; score: number }; epochs_run: number; test: { test_movie: { correlation: number } } };
    const ma = JSON.parse(readFileSync(join(killedRun, 'metrics.json'), 'utf8')) as Metrics;
    const mb = JSON.parse(readFileSync(join(straight, 'metrics.json'), 'utf8')) as Metrics;
    expect(ma.epochs_run).toBe(mb.epochs_run);
    expect(ma.best.epoch).toBe(mb.best.epoch);
    expect(Math.abs(ma.best.score - mb.best.score)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(mb.best.score)));
    expect(Math.abs(ma.test.test_movie.correlation - mb.test.test_movie.correlation)).toBeLessThanOrEqual(1e-5);
  }, 600_000);
});

describe('kill -9 inside a checkpoint write', () => {
  it('leaves the previous last/ and best/ loadable, and train --resume finishes the run', async () => {
    const run = join(root, 'killed-in-write');
    const checkpoints = join(run, 'checkpoints');
    const asideOfLast = () =>
      existsSync(checkpoints) ? readdirSync(checkpoints).find((e) => /^\.last\..*\.tmp\.old$/.test(e)) : undefined;
    // the test hook holds every folder swap for 2 s between moving the old folder aside and renaming the new one in:
    // the kill lands there, when last/ is missing (the second epoch's save: the first has nothing to replace)
    const { killed } = await trainAndKill(run, () => !existsSync(join(checkpoints, 'last')) && asideOfLast() !== undefined, {
      OPENRETINA_TEST_SWAP_PAUSE_MS: '2000',
    });
    expect(killed).toBe(true);
    expect(existsSync(join(checkpoints, 'last')), 'killed while last/ was swapped').toBe(false);
    expect(asideOfLast()).toBeDefined();
    expect(csvEpochs(run)).toBe(1); // metrics.csv follows last/: the second epoch is not in it

    // loading repairs the cut swap: the previous last/ (after epoch 1) and best/ load whole
    for (const c of ['last', 'best']) {
      const { model } = await loadCheckpoint(join(checkpoints, c));
      model.dispose();
    }
    expect(readdirSync(checkpoints).filter((e) => e.startsWith('.'))).toEqual([]);

    const resumed = capture();
    const code = await runCli(['train', '--resume', run, '--progress', 'none', '--report-meis', '0'], resumed);
    expect(code, resumed.errors.join('\n')).toBe(0);
    expect(resumed.lines.join('\n')).toMatch(/resuming after epoch 1 /);
    expect(csvEpochs(run)).toBe(EPOCHS);
    const leftovers = readdirSync(run, { recursive: true }) as string[];
    expect(leftovers.filter((f) => /\.tmp/.test(f))).toEqual([]);
  }, 600_000);
});
