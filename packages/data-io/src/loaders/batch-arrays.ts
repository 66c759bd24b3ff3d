import * as tf from '@tensorflow/tfjs-core';

/**
 * The host arrays a batch is assembled in before it becomes tensors. On the wasm backend a tensor copies its values
 * into the wasm heap when it is created, so two arrays (inputs, targets) serve every batch of every loader: a fresh
 * 1.8 MB array per batch cost its page faults on first touch (at the Höfling 2024 dimensions on Node 24, ~9 ms of a
 * batch's ~12 ms of data time). Other backends may keep the array as the tensor's storage (cpu does): a new one each.
 */
const batchArrays: Float32Array[] = [];

/** A float32 array of `size` values for a batch's part `slot` (0 inputs, 1 targets), valid until the next call for that slot. */
export function batchArray(slot: number, size: number): Float32Array {
  if (tf.getBackend() !== 'wasm') return new Float32Array(size);
  let a = batchArrays[slot];
  if (!a || a.length < size) batchArrays[slot] = a = new Float32Array(size);
  return a.subarray(0, size);
}
