import * as tf from '@tensorflow/tfjs-core';
import { hostMemoryBackend, readFloatsSync, tensorFromHost } from '@openretina/layers';
import { type NamedGrads, toMap } from './optimizer.js';

/*
 * `torch.nn.utils.clip_grad_norm_`: Lightning's gradient clipping, applied to the gradients before the optimizer step.
 */

/** What {@link clipGradNorm} returns: the clipped gradients (new tensors, the caller owns them) and the norm before clipping. */
export interface ClipResult {
  grads: Map<string, tf.Tensor>;
  /** The total norm of all gradients before clipping (PyTorch's return value). */
  totalNorm: number;
  /** The factor the gradients were multiplied by: min(1, maxNorm / (totalNorm + 1e-6)). */
  clipCoef: number;
}

/**
 * `torch.nn.utils.clip_grad_norm_`: total norm = the `normType`-norm of the per-tensor norms; every gradient is
 * multiplied by `min(1, maxNorm / (total + 1e-6))`. Returns new tensors; the input gradients are not disposed.
 */
export function clipGradNorm(grads: NamedGrads, maxNorm: number, normType: number | 'inf' = 2): ClipResult {
  const map = toMap(grads);
  if (map.size === 0) return { grads: new Map(), totalNorm: 0, clipCoef: 1 };
  const tensors = [...map.values()];
  if (normType === 2 && hostMemoryBackend() && tensors.every((g) => g.dtype === 'float32')) return clipOnHost(map, maxNorm);
  const totalT = tf.tidy(() => {
    if (normType === 'inf' || normType === Infinity) return tf.max(tf.stack(tensors.map((g) => tf.max(tf.abs(g)))));
    const norms = tensors.map((g) => tf.norm(g, normType as number));
    return tf.norm(tf.stack(norms), normType as number);
  });
  const totalNorm = totalT.dataSync()[0]!;
  // PyTorch computes the coefficient in float32 tensors.
  const coefT = tf.tidy(() => tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalT, 1e-6)), 1));
  const clipCoef = coefT.dataSync()[0]!;
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of map) out.set(k, tf.mul(g, coefT));
  tf.dispose([totalT, coefT]);
  return { grads: out, totalNorm, clipCoef };
}

/**
 * The 2-norm clip on the host, for backends whose tensors live in host memory: a training step's ~90 small kernels
 * (norms, stack, coefficient, products) cost several ms while V8 has not yet optimised TF.js's paths. The same
 * float32 roundings as the kernels (each square, norm, sum and product rounded to float32; sums accumulate in
 * float64 as the cpu backend's do), so the results agree with the tensor path to the last bit or two.
 */
function clipOnHost(map: Map<string, tf.Tensor>, maxNorm: number): ClipResult {
  const f = Math.fround;
  const values = [...map.values()].map((g) => readFloatsSync(g));
  let sumOfSquares = 0;
  for (const v of values) {
    const norm = f(Math.sqrt(f(squaresSum(v))));
    sumOfSquares += f(norm * norm);
  }
  const totalNorm = f(Math.sqrt(f(sumOfSquares)));
  const quotient = f(f(maxNorm) / f(totalNorm + f(1e-6)));
  const clipCoef = Number.isNaN(quotient) ? quotient : Math.min(quotient, 1);
  const out = new Map<string, tf.Tensor>();
  let j = 0;
  for (const [k, g] of map) {
    const v = values[j++]!;
    // a product by exactly 1 changes nothing: the caller gets its own handle on the same data
    out.set(k, clipCoef === 1 ? tf.clone(g) : tensorFromHost(scaled(v, clipCoef), g.shape));
  }
  return { grads: out, totalNorm, clipCoef };
}

/** Σ fround(vᵢ²) in float64, as the kernels' sum of the float32 squares. */
function squaresSum(v: Float32Array): number {
  const f = Math.fround;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += f(v[i]! * v[i]!);
  return s;
}

/** `v · coef` rounded to float32 (a loop, not `map` with a closure: cheaper before V8 has optimised it). */
function scaled(v: Float32Array, coef: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * coef;
  return out;
}

// Run a few times when the module loads so that V8 compiles both loops before a training run's first steps (see
// the AdamW update's note).
{
  const a = new Float32Array(1024).fill(0.5);
  for (let k = 0; k < 8; k++) scaled(a, squaresSum(a));
}
