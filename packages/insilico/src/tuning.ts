import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';
import type { StimulusObjective } from './objectives.js';

/**
 * A stimulus whose colour channels are scaled by learnable contrasts (OpenRetina's `MeiAcrossContrasts`):
 * `forward() = stim · contrasts[c]` per channel. `contrasts` is the variable gradients are taken with respect to.
 */
export class MeiAcrossContrasts {
  readonly contrasts: tf.Variable<tf.Rank.R1>;
  readonly stimulus: tf.Tensor5D;

  constructor(contrastValues: ArrayLike<number>, stimulus: tf.Tensor5D) {
    if (stimulus.rank !== 5 || stimulus.shape[0] !== 1 || stimulus.shape[4] !== contrastValues.length) {
      throw new ShapeError(
        `MeiAcrossContrasts needs a stimulus [1, T, H, W, ${contrastValues.length}] (one contrast per channel), got ${formatShape(stimulus.shape)}.`,
      );
    }
    const initial = tf.tensor1d(Array.from(contrastValues));
    this.contrasts = tf.variable(initial, true);
    initial.dispose();
    this.stimulus = tf.keep(tf.clone(stimulus));
  }

  forward(): tf.Tensor5D {
    return tf.tidy(() => tf.mul(this.stimulus, this.contrasts) as tf.Tensor5D);
  }

  dispose(): void {
    this.contrasts.dispose();
    this.stimulus.dispose();
  }
}

/**
 * `trainer_fn`: one backward pass of the objective through the contrast-scaled stimulus.
 * Returns `∂objective/∂contrasts` and the objective (no optimiser step).
 */
export function contrastGradient(
  generator: MeiAcrossContrasts,
  objective: StimulusObjective,
): { gradient: Float32Array; response: number } {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => objective.forward(generator.forward()), [generator.contrasts]);
    return { gradient: Float32Array.from(grads[generator.contrasts.name]!.dataSync()), response: value.dataSync()[0]! };
  });
}

/** `numpy.arange(start, stop, step)` for floats: `ceil((stop − start)/step)` values `start + i·step`. */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return Array.from({ length: n }, (_, i) => start + i * step);
}

export interface GradientGridOptions {
  start?: number;
  stop?: number;
  stepSize?: number;
}

export interface GradientGrid {
  /** `[2][i][j]`: `∂objective/∂(green, UV contrast)` at green value i, UV value j. */
  grid: [Float64Array[], Float64Array[]];
  /** `[i][j]` objective values. */
  respGrid: Float64Array[];
  /** `[i][j]` gradient norms. */
  normGrid: Float64Array[];
  greenContrastValues: number[];
  uvContrastValues: number[];
}

/**
 * `get_gradient_grid`: the response gradient with respect to the two colour contrasts over a grid of contrasts
 * `numpy.arange(start, stop + step, step)` on both axes (OpenRetina ignores `start`/`stop` in its loops and always uses
 * −1…1; we honour them, which gives the same grid for the defaults).
 */
export function getGradientGrid(stimulus: tf.Tensor5D, objective: StimulusObjective, options: GradientGridOptions = {}): GradientGrid {
  const start = options.start ?? -1;
  const stop = options.stop ?? 1;
  const step = options.stepSize ?? 0.1;
  const values = numpyArange(start, stop + step, step);
  const n = values.length;
  const mk = () => Array.from({ length: n }, () => new Float64Array(n));
  const grid: [Float64Array[], Float64Array[]] = [mk(), mk()];
  const respGrid = mk();
  const normGrid = mk();
  values.forEach((g, i) => {
    values.forEach((u, j) => {
      const gen = new MeiAcrossContrasts([g, u], stimulus);
      const { gradient, response } = contrastGradient(gen, objective);
      gen.dispose();
      grid[0][i]![j] = gradient[0]!;
      grid[1][i]![j] = gradient[1]!;
      respGrid[i]![j] = response;
      normGrid[i]![j] = Math.hypot(gradient[0]!, gradient[1]!);
    });
  });
  return { grid, respGrid, normGrid, greenContrastValues: [...values], uvContrastValues: [...values] };
}

/**
 * `equalize_channels`: scales each of the two channels to norm `‖stim‖/2`, optionally negates green (channel 0), then
 * rescales to the original total norm. `stimulus` is `[1, T, H, W, 2]`.
 */
export function equalizeChannels(stimulus: tf.Tensor5D, flipGreen = false): tf.Tensor5D {
  if (stimulus.rank !== 5 || stimulus.shape[4] !== 2) {
    throw new ShapeError(`equalizeChannels needs a two-channel stimulus [1, T, H, W, 2], got ${formatShape(stimulus.shape)}.`);
  }
  return tf.tidy(() => {
    const total = tf.norm(stimulus);
    const [g, u] = tf.split(stimulus, 2, 4) as [tf.Tensor5D, tf.Tensor5D];
    let ge = tf.mul(tf.div(tf.div(total, 2), tf.norm(g)), g);
    if (flipGreen) ge = tf.neg(ge);
    const ue = tf.mul(tf.div(tf.div(total, 2), tf.norm(u)), u);
    const eq = tf.concat([ge, ue], 4);
    return tf.mul(tf.div(total, tf.norm(eq)), eq) as tf.Tensor5D;
  });
}
