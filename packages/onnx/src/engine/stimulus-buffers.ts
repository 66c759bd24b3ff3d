import * as tf from '@tensorflow/tfjs-core';
import { readFloats } from '@openretina/layers';

/** The wasm backend's view of a tensor's memory (a method of its backend class, not of TF.js's `KernelBackend`). */
interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/**
 * Host copies of the stimuli fed to ONNX Runtime, reused from call to call on the wasm backend. There `dataSync`
 * returns a fresh copy each time, and fresh memory is expensive to touch first: on the benchmark VM a 32 × 50-frame
 * stimulus (3.7 MB, ~900 pages) cost 10–30 ms more per prediction for the first ~8 predictions of a process, until
 * the allocator began reusing freed blocks (the bench's 7 runs after 2 warm-ups measured exactly that). A buffer is
 * taken for one `session.run` and given back after it, so concurrent calls never share one. Other backends read as
 * before (the cpu backend's `dataSync` is the tensor's own storage, no copy).
 */
export class StimulusBuffers {
  private readonly free = new Map<number, Float32Array[]>();

  /** The values of `x` (float32) and the function that gives their buffer back once the run has finished. */
  async take(x: tf.Tensor): Promise<{ data: Float32Array; release: () => void }> {
    const backend = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as Partial<HeapBackend>) : undefined;
    if (x.dtype !== 'float32' || typeof backend?.typedArrayFromHeap !== 'function')
      return { data: await readFloats(x), release: () => undefined };
    let pool = this.free.get(x.size);
    if (!pool) {
      pool = [];
      this.free.set(x.size, pool);
      // a few stimulus sizes at most (training, validation and test lengths); the oldest goes first
      if (this.free.size > 4) this.free.delete(this.free.keys().next().value!);
    }
    const data = pool.pop() ?? new Float32Array(x.size);
    data.set(backend.typedArrayFromHeap(x)); // a view of the wasm heap, valid until the next TF.js call: copied at once
    const owner = pool;
    return { data, release: () => void owner.push(data) };
  }

  clear(): void {
    this.free.clear();
  }
}
