import type * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import type { CoreReadout } from '@openretina/models';
import { GaussianMaskReadout } from '@openretina/readout';

/*
 * Reading a model's weights for folding them into graph constants: the modules as plain records, and the Gaussian-mask
 * readouts of the exported sessions as one dense matrix.
 */

/** A module read by its field names (the export checks what it needs). */
export type AnyModule = Record<string, unknown>;

/** The values of a tensor (a view, not a copy). */
export function dataOf(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** One Gaussian-mask readout as a dense weight \`[c·h·w, n]\` (its `denseWeight` transposed), its bias and its nonlinearity. */
function readoutWeights(readout: unknown): { weights: Float32Array; bias: Float32Array; n: number; nonlinearity: string } {
  if (!(readout instanceof GaussianMaskReadout) || typeof readout.nonlinearity !== 'string') {
    const what = readout instanceof GaussianMaskReadout ? 'a custom nonlinearity' : (readout as object).constructor.name;
    throw new UnsupportedError(`ONNX export supports Gaussian-mask readouts with a named nonlinearity only (got ${what}).`);
  }
  const n = readout.outDims;
  const dense = readout.denseWeight(); // [n, c·h·w]
  const rows = dense.length / n;
  const weights = new Float32Array(dense.length);
  for (let k = 0; k < n; k++) for (let r = 0; r < rows; r++) weights[r * n + k] = dense[k * rows + r]!;
  return { weights, bias: Float32Array.from(dataOf(readout.bias)), n, nonlinearity: readout.nonlinearity };
}

/** The readouts of `sessions`, concatenated: weight `[c·h·w, N]` (row `(ch·h + y)·w + x`), bias `[N]`. */
export function sessionReadouts(
  model: CoreReadout,
  sessions: readonly string[],
  c: number,
  hw: readonly [number, number],
): { weights: Float32Array; bias: Float32Array; N: number; nl: string } {
  const multi = model.readout;
  if (!multi.readout) throw new UnsupportedError('ONNX export needs a multi-session readout with per-session readouts.');
  const parts = sessions.map((s) => readoutWeights(multi.readout!(s)));
  for (const s of sessions) model.checkReadoutInput(s);
  const nl = parts[0]!.nonlinearity;
  if (parts.some((p) => p.nonlinearity !== nl))
    throw new UnsupportedError('ONNX export of sessions with different readout nonlinearities is not supported.');
  const N = parts.reduce((a, p) => a + p.n, 0);
  const weights = new Float32Array(c * hw[0] * hw[1] * N);
  const bias = new Float32Array(N);
  let offset = 0;
  for (const p of parts) {
    for (let r = 0; r < c * hw[0] * hw[1]; r++) weights.set(p.weights.subarray(r * p.n, (r + 1) * p.n), r * N + offset);
    bias.set(p.bias, offset);
    offset += p.n;
  }
  return { weights, bias, N, nl };
}
