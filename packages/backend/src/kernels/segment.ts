/**
 * `UnsortedSegmentSum` for wasm (missing in TF.js 4.22.0). It is the gradient of `tf.gather`, so
 * without it any model that gathers (embedding-style lookups, per-neuron parameter selection) cannot
 * be trained on wasm. Implemented as `oneHot(ids)^T · x`: one matMul, exact for float32 sums, with
 * out-of-range ids (negative or ≥ numSegments) dropped, like TensorFlow.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { kernelAttrs, kernelInput, type KernelArgs } from './common.js';

export function unsortedSegmentSum(args: KernelArgs): Tensor {
  const name = 'UnsortedSegmentSum';
  const { numSegments } = kernelAttrs<UnsortedSegmentSumAttrs>(args.attrs);
  return tf.tidy(() => {
    const x = kernelInput(args.inputs, 'x', name);
    const ids = kernelInput(args.inputs, 'segmentIds', name);
    // segmentIds covers the leading ids.rank axes of x; the rest are summed as rows.
    const rows = ids.size;
    const tail = x.shape.slice(ids.rank);
    const cols = tail.reduce((p, d) => p * d, 1);
    const oneHot = tf.cast(tf.oneHot(tf.cast(tf.reshape(ids, [rows]), 'int32'), numSegments), 'float32'); // [rows, S]
    const x2 = tf.reshape(x.dtype === 'float32' ? x : tf.cast(x, 'float32'), [rows, cols]);
    const out = tf.reshape(tf.matMul(oneHot, x2, true, false), [numSegments, ...tail]);
    return x.dtype === 'float32' ? out : tf.cast(out, x.dtype);
  });
}
