// Results are never lost: a folder that holds a run is not written over, and an output never replaces an input.
import { existsSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '@openretina/contracts';
import { RUN_ENGINE_FILE } from './run-engine.js';
import { LOCK_FILE } from './run-lock.js';

/** Files whose presence makes a folder a run's (a training run's, or an evaluation's metrics.json). */
const RUN_MARKERS = ['config.yaml', 'metrics.csv', 'metrics.json', 'checkpoints'];
/** Files only a training run writes. */
const TRAINING_MARKERS = ['config.yaml', 'metrics.csv', 'checkpoints'];

/** The run files a folder holds (empty: a fresh or missing folder). */
export function runFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new ConfigError(`The run folder ${dir} is a file, not a folder.`);
  const names = new Set(readdirSync(dir));
  return RUN_MARKERS.filter((m) => names.has(m));
}

/** Whether `dir` holds a training run (a config.yaml with metrics or checkpoints beside it). */
export function holdsRun(dir: string): boolean {
  return runFilesIn(dir).length > 0;
}

/**
 * Refuses to start a run in a folder that already holds one, unless `overwrite` (`--overwrite`) or `resume`
 * (`--resume`, which continues it).
 */
export function checkRunFolder(dir: string, options: { overwrite: boolean; resume: boolean }): void {
  const found = runFilesIn(dir);
  if (found.length === 0 || options.overwrite || options.resume) return;
  throw new ConfigError(
    `${dir} already holds a run (${found.join(', ')}): it is not replaced. Choose a fresh folder (paths.output_dir=DIR or hydra.run.dir=DIR), continue it with --resume ${dir}, or replace it with --overwrite.`,
    { details: { dir, found } },
  );
}

/** What `--overwrite` removes before a new run: the files a run writes into its folder (nothing else the folder holds). */
export function clearRunFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (
      RUN_MARKERS.includes(name) ||
      name === 'report.html' ||
      name === RUN_ENGINE_FILE ||
      name === 'lightning_logs' ||
      name === 'csv' ||
      name === 'tensorboard' ||
      /^(per_neuron_.*\.csv|evaluation_.*\.json)$/.test(name)
    )
      rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Where `eval --output DIR` writes: DIR itself, or `DIR/evaluation` when DIR holds a training run (its files stay). */
export function evaluationFolder(dir: string): string {
  if (!existsSync(dir)) return dir;
  const names = new Set(readdirSync(dir));
  return TRAINING_MARKERS.some((m) => names.has(m)) ? join(dir, 'evaluation') : dir;
}

/** The real path of a file or of its nearest existing parent (so a file that does not exist yet compares too). */
function canonical(path: string): string {
  let p = resolve(path);
  const rest: string[] = [];
  while (!existsSync(p) && dirname(p) !== p) {
    rest.unshift(basename(p));
    p = dirname(p);
  }
  return join(realpathSync(p), ...rest);
}

/** Refuses an output path that is one of the inputs (e.g. `predict --output x.npy --input x.npy`). */
export function refuseOutputOverInput(output: string, inputs: Record<string, string | undefined>): void {
  const out = canonical(output);
  for (const [flag, input] of Object.entries(inputs)) {
    if (input !== undefined && existsSync(input) && canonical(input) === out)
      throw new ConfigError(`--output ${output} is the ${flag} file: the output would replace the input. Choose another output path.`);
  }
}

export { LOCK_FILE };
