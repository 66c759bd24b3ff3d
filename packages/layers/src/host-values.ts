import * as tf from '@tensorflow/tfjs-core';

/** Whether the active backend keeps tensors in host memory (cpu, wasm): `dataSync` there is a plain copy, not a GPU read-back. */
export function hostMemoryBackend(): boolean {
  const b = tf.getBackend();
  return b === 'cpu' || b === 'wasm';
}

/**
 * The host arrays tensors were made from ({@link tensorFromHost}), by the tensor data they hold. TF.js never changes a
 * tensor's data in place (a variable's `assign` takes the new tensor's data), so while the data lives its values are
 * the array's; keyed weakly, an entry goes with the data.
 */
const hostArrays = new WeakMap<object, Float32Array>();

/**
 * A float32 tensor of `values` that remembers them: {@link readFloats} and {@link readFloatsSync} of it and of a
 * variable assigned from it return `values` itself instead of copying the data back out of the backend (the
 * training step's parameters and gradients go host → tensor → host several times per step: ~75 copies on wasm, a
 * copy back from the GPU elsewhere). `values` becomes read only: nothing may write to it afterwards.
 */
export function tensorFromHost(values: Float32Array, shape: readonly number[]): tf.Tensor {
  const t = tf.tensor(values, [...shape], 'float32');
  hostArrays.set(t.dataId, values);
  return t;
}

/**
 * A float tensor's values on the host: the array it was made from when known ({@link tensorFromHost}), else
 * `dataSync` on the host-memory backends (several times faster than the promise of `data()`: 2.7 against 0.8 ms for a
 * 32 × 50-frame stimulus on wasm), `data()` elsewhere. Read only: on the cpu backend this is the tensor's own storage.
 */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  return hostArrays.get(t.dataId) ?? ((hostMemoryBackend() ? t.dataSync() : await t.data()) as Float32Array);
}

/** {@link readFloats} for synchronous code (`dataSync` where the values are not known, which may block). Read only. */
export function readFloatsSync(t: tf.Tensor): Float32Array {
  return hostArrays.get(t.dataId) ?? (t.dataSync() as Float32Array);
}

/**
 * Whether two float32 arrays hold the same values, NaN equal to NaN (and −0 to +0). Compares the bits first, value by
 * value only where they differ: a loop of plain integer compares, several times faster than the float one on the
 * megabytes of a validation stimulus.
 */
export function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ab = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const bb = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ab.length; i++) {
    if (ab[i] === bb[i]) continue;
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}
