import { ConfigError } from '@openretina/contracts';
import { MT19937 } from '../../random/mt19937.js';

/** Trial pairs whose frames overlap (the seeds' movies repeat); they must fall on the same side of the split. */
export const SRIDHAR_LINKED_TRIALS: readonly (readonly [number, number])[] = [
  [0, 9],
  [10, 19],
];

/** Options of {@link sridharTrialSplit}. */
export interface SridharTrialSplitOptions {
  /** Fraction of trials for training (default 0.8); `floor(n · trainFrac)` trials go to train. */
  trainFrac?: number;
  /** Seed (default 1000, as OpenRetina when the seed is null). */
  seed?: number | null;
  /** Append the validation trials to the train trials (validation stays as drawn). */
  finalTraining?: boolean;
  /** `[train, validation]` trial indices to use as given. */
  hardCoded?: readonly [readonly number[], readonly number[]];
}

/**
 * OpenRetina's `get_trial_wise_validation_split`: `np.random.seed(seed)` then `np.random.permutation(nTrials)` split at
 * `floor(nTrials · trainFrac)`, re-drawn (continuing the same stream) until trials 0 and 9, and 10 and 19, are on the
 * same side. OpenRetina's permutation comes from numpy's legacy global generator, which {@link MT19937} reproduces, so
 * the split equals OpenRetina's for the same seed (`set_seed` also seeds torch, which the split does not use).
 */
export function sridharTrialSplit(numTrials: number, options: SridharTrialSplitOptions = {}): { train: number[]; validation: number[] } {
  if (options.hardCoded) return { train: [...options.hardCoded[0]], validation: [...options.hardCoded[1]] };
  if (!Number.isInteger(numTrials) || numTrials < 0) throw new ConfigError(`numTrials must be a non-negative integer, got ${numTrials}.`);
  const frac = options.trainFrac ?? 0.8;
  if (!(frac >= 0 && frac <= 1)) throw new ConfigError(`trainFrac must be in [0, 1], got ${frac}.`);
  const rng = new MT19937((options.seed ?? 1000) >>> 0);
  const k = Math.trunc(numTrials * frac);
  const split = () => {
    const p = rng.permutation(numTrials);
    return { train: p.slice(0, k), validation: p.slice(k) };
  };
  const separated = (s: { train: number[]; validation: number[] }) => {
    const tr = new Set(s.train);
    const va = new Set(s.validation);
    return SRIDHAR_LINKED_TRIALS.some(([a, b]) => (tr.has(a) && va.has(b)) || (tr.has(b) && va.has(a)));
  };
  let s = split();
  for (let tries = 0; separated(s); tries++) {
    if (tries > 100000) throw new ConfigError(`No split of ${numTrials} trials with trainFrac ${frac} keeps the linked trials together.`);
    s = split();
  }
  return options.finalTraining ? { train: [...s.train, ...s.validation], validation: s.validation } : s;
}

/**
 * OpenRetina's `filter_trials`: keeps the trials in `[startingTrial, min(numTrials, startingTrial + numOfTrialsToUse))`
 * (all trials by default), preserving the split order.
 */
export function filterSridharTrials(
  numTrials: number,
  split: { train: readonly number[]; validation: readonly number[] },
  options: { numOfTrialsToUse?: number | null; startingTrial?: number } = {},
): { train: number[]; validation: number[] } {
  const start = options.startingTrial ?? 0;
  const use = options.numOfTrialsToUse ?? split.train.length + split.validation.length;
  const end = Math.min(numTrials, use + start);
  const keep = (t: number) => t >= start && t < end;
  return { train: split.train.filter(keep), validation: split.validation.filter(keep) };
}
