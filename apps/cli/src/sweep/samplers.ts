// The three samplers of `openretina sweep`: random, grid and TPE. A sampler is a pure function of the study's seed,
// the trial number and the finished trials, so a study is reproducible on one machine, on a queue, and after a restart.
import { ConfigError } from '@openretina/contracts';
import { randomSource, type RandomSource } from './random-source.js';
import type { Distribution, ParamValue, SearchSpace } from './search-space.js';
import { sampleTpe, type TpeOptions } from './tpe.js';

export type SamplerName = 'tpe' | 'random' | 'grid';
export const SAMPLERS: readonly SamplerName[] = ['tpe', 'random', 'grid'];

/** A finished trial as samplers see it (value already oriented: smaller is better). */
export interface Observation {
  number: number;
  params: Record<string, ParamValue>;
  /** The objective to minimise (the value, negated when the study maximises). */
  loss: number;
}

/** One uniform draw from a distribution (Optuna's RandomSampler). */
export function sampleUniform(d: Distribution, rng: RandomSource): ParamValue {
  switch (d.kind) {
    case 'categorical':
      return d.choices[rng.int(d.choices.length)]!;
    case 'float': {
      if (!d.log) return d.low + rng.next() * (d.high - d.low);
      return Math.exp(Math.log(d.low) + rng.next() * (Math.log(d.high) - Math.log(d.low)));
    }
    case 'int': {
      if (d.log) {
        const lo = Math.log(d.low - 0.5);
        const hi = Math.log(d.high + 0.5);
        return Math.min(d.high, Math.max(d.low, Math.round(Math.exp(lo + rng.next() * (hi - lo)))));
      }
      const n = Math.floor((d.high - d.low) / d.step) + 1;
      return d.low + rng.int(n) * d.step;
    }
  }
}

/** Every value of a distribution, for the grid (an interval of floats has no grid). */
export function gridValues(key: string, d: Distribution): ParamValue[] {
  if (d.kind === 'categorical') return d.choices;
  if (d.kind === 'int') return Array.from({ length: Math.floor((d.high - d.low) / d.step) + 1 }, (_, i) => d.low + i * d.step);
  throw new ConfigError(`--sampler grid needs finite choices, but ${key} is a float interval; use choice(...) or range(...).`);
}

/** The grid's points in a fixed order, shuffled by the seed as Optuna's GridSampler does. */
export function gridPoints(space: SearchSpace, seed: number): Record<string, ParamValue>[] {
  let points: Record<string, ParamValue>[] = [{}];
  for (const [key, d] of Object.entries(space)) {
    const values = gridValues(key, d);
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  const rng = randomSource(seed, 0, 'grid');
  for (let i = points.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [points[i], points[j]] = [points[j]!, points[i]!];
  }
  return points;
}

/** The parameters of trial `number`, given the finished trials. */
export function sampleParams(
  sampler: SamplerName,
  space: SearchSpace,
  seed: number,
  number: number,
  finished: readonly Observation[],
  tpe: TpeOptions = {},
): Record<string, ParamValue> {
  if (sampler === 'grid') {
    const points = gridPoints(space, seed);
    return points[number % points.length]!;
  }
  if (sampler === 'tpe') return sampleTpe(space, finished, randomSource(seed, number, 'tpe'), tpe);
  const rng = randomSource(seed, number, 'random');
  return Object.fromEntries(Object.entries(space).map(([k, d]) => [k, sampleUniform(d, rng)]));
}
