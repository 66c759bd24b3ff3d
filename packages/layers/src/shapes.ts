import type * as tf from '@tensorflow/tfjs-core';
import { ShapeError, formatShape } from '@openretina/contracts';

/**
 * Checks rank and (where given) sizes of a tensor; `null` entries accept any size.
 * Throws a `ShapeError` naming the expected and the actual shape.
 */
export function assertShape(t: tf.Tensor, expected: readonly (number | null)[], what: string): void {
  const ok = t.rank === expected.length && expected.every((d, i) => d === null || d === t.shape[i]);
  if (!ok) {
    throw new ShapeError(`${what}: expected shape ${formatShape(expected)}, got ${formatShape(t.shape)}.`, {
      details: { expected, actual: t.shape },
    });
  }
}

/** Product of the entries. */
export function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}
