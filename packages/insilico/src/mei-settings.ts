// Named MEI settings (the CLI's `mei`/`visualize` and the demo share them) and the convergence verdict of a run.
import { ConfigError } from '@openretina/contracts';
import type { OptimizeStimulusResult } from './optimize.js';
import {
  ChangeNormJointlyClipRangeSeparately,
  HOEFLING_MIN_MAX,
  HOEFLING_STIMULUS_RANGE,
  RangeRegularizationLoss,
  type MinMax,
} from './regularizers.js';
import { ConvergenceStopper } from './stoppers.js';

/** Everything that defines an MEI run of a core-readout model except the neuron and the random start. */
export interface MeiPreset {
  readonly name: MeiPresetName;
  readonly description: string;
  /** SGD learning rate on the stimulus. */
  readonly lr: number;
  /** The step cap. */
  readonly maxSteps: number;
  /** Convergence: relative objective change per step at most this ... */
  readonly relativeTolerance: number;
  /** ... on this many consecutive steps (0: no convergence test, always run `maxSteps`). */
  readonly patience: number;
  readonly minSteps: number;
  /** Stimulus length in frames. */
  readonly frames: number;
  /** The objective: mean response over output frames `[start, start + length)`. */
  readonly window: { readonly start: number; readonly length: number };
  /** L2 norm the stimulus is kept at (2-channel Höfling models) and the range penalty factor. */
  readonly norm: number;
  readonly rangePenalty: number;
}

export type MeiPresetName = 'default' | 'openretina';

/**
 * `openretina`: OpenRetina's `visualize` settings (SGD lr 100, 10 steps, 50 frames, objective over output frames
 * 10–19, norm 30, green/UV ranges, range penalty 0.1). `default`: the same objective and constraints, run until the
 * objective settles (relative change ≤ 1e-3 on 5 steps in a row, at least 20 steps) or 300 steps. With 10 steps the
 * ON–OFF neurons of the bundled model stay at noise (objective +2–4 %); they need 70–140 steps (objective ×3–6,
 * a centred spot), the ON and OFF types settle after 20–30.
 */
export const MEI_PRESETS: Readonly<Record<MeiPresetName, MeiPreset>> = {
  default: {
    name: 'default',
    description:
      'SGD lr 100 until the objective settles (relative change ≤ 1e-3 on 5 steps) or 300 steps; OpenRetina’s objective and constraints',
    lr: 100,
    maxSteps: 300,
    relativeTolerance: 1e-3,
    patience: 5,
    minSteps: 20,
    frames: 50,
    window: { start: 10, length: 10 },
    norm: HOEFLING_STIMULUS_RANGE.norm,
    rangePenalty: 0.1,
  },
  openretina: {
    name: 'openretina',
    description: 'OpenRetina’s visualize settings: SGD lr 100, 10 steps, no convergence test',
    lr: 100,
    maxSteps: 10,
    relativeTolerance: 0,
    patience: 0,
    minSteps: 0,
    frames: 50,
    window: { start: 10, length: 10 },
    norm: HOEFLING_STIMULUS_RANGE.norm,
    rangePenalty: 0.1,
  },
};

/** The preset of that name (`ConfigError` naming the known ones otherwise). */
export function meiPreset(name: string): MeiPreset {
  const p = (MEI_PRESETS as Record<string, MeiPreset | undefined>)[name];
  if (!p) throw new ConfigError(`Unknown MEI preset "${name}"; expected one of ${Object.keys(MEI_PRESETS).join(', ')}.`);
  return p;
}

/**
 * The stimulus constraints of OpenRetina's `visualize`: for 2-channel (green/UV) models the Höfling ranges and the
 * preset's norm, for other channel counts none; the range penalty with the preset's factor.
 */
export function meiConstraints(
  channels: number,
  preset: Pick<MeiPreset, 'norm' | 'rangePenalty'> = MEI_PRESETS.default,
): { postprocessor: ChangeNormJointlyClipRangeSeparately; regularizer: RangeRegularizationLoss } {
  const twoChannel = channels === 2;
  const minMax: MinMax[] = twoChannel ? [...HOEFLING_MIN_MAX] : Array.from({ length: channels }, () => [null, null] as const);
  const norm = twoChannel ? preset.norm : null;
  return {
    postprocessor: new ChangeNormJointlyClipRangeSeparately({ minMax, norm }),
    regularizer: new RangeRegularizationLoss({ minMax, maxNorm: norm, factor: preset.rangePenalty }),
  };
}

/** The stopper of a preset (a `ConvergenceStopper` with its cap; `maxSteps` overrides the cap). */
export function meiStopper(preset: MeiPreset, maxSteps = preset.maxSteps): ConvergenceStopper {
  return new ConvergenceStopper({
    maxIterations: maxSteps,
    // patience 0 means "no convergence test": a tolerance nothing meets
    relativeTolerance: preset.patience > 0 ? preset.relativeTolerance : -1,
    patience: Math.max(1, preset.patience),
    minIterations: preset.minSteps,
  });
}

/** How an MEI run ended, with warnings a person should read. */
export interface MeiConvergence {
  converged: boolean;
  iterations: number;
  maxIterations: number;
  /** The run stopped at the step cap without meeting the convergence criterion. */
  hitCap: boolean;
  objectiveStart: number;
  objectiveEnd: number;
  /** (end − start) / |start| of the objective. */
  relativeGain: number;
  /** Relative objective change over the last step. */
  lastRelativeChange: number;
  warnings: string[];
}

/**
 * The verdict on an MEI run: converged, or stopped at the cap (with the last relative change), and a warning when the
 * objective barely moved (less than `minRelativeGain`, default 10 %: such MEIs are usually noise).
 */
export function meiConvergence(result: OptimizeStimulusResult, maxIterations: number, minRelativeGain = 0.1): MeiConvergence {
  const o = result.objectives;
  const start = o[0] ?? Number.NaN;
  const end = o[o.length - 1] ?? Number.NaN;
  const prev = o[o.length - 2] ?? Number.NaN;
  const relativeGain = (end - start) / Math.max(Math.abs(start), 1e-12);
  const lastRelativeChange = Math.abs(end - prev) / Math.max(Math.abs(end), 1e-12);
  const hitCap = !result.converged && result.iterations >= maxIterations;
  const warnings: string[] = [];
  if (hitCap) {
    warnings.push(
      `stopped at the cap of ${maxIterations} steps before the objective settled (last step changed it by ${(lastRelativeChange * 100).toFixed(2)} %): raise the step cap or the learning rate`,
    );
  }
  if (!(relativeGain >= minRelativeGain)) {
    warnings.push(
      `the objective barely moved (${start.toPrecision(4)} → ${end.toPrecision(4)}, ${relativeGain >= 0 ? '+' : ''}${(relativeGain * 100).toFixed(1)} %): this MEI is probably noise`,
    );
  }
  return {
    converged: result.converged,
    iterations: result.iterations,
    maxIterations,
    hitCap,
    objectiveStart: start,
    objectiveEnd: end,
    relativeGain,
    lastRelativeChange,
    warnings,
  };
}
