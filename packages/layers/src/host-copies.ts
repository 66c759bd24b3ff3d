import * as tf from '@tensorflow/tfjs-core';
import { readFloats, readFloatsSync } from './host-values.js';

/** The wasm backend's view of a tensor's memory (a method of its backend class, not of TF.js's `KernelBackend`). */
interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

function heapBackend(x: tf.Tensor): HeapBackend | undefined {
  const backend = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as Partial<HeapBackend>) : undefined;
  return x.dtype === 'float32' && typeof backend?.typedArrayFromHeap === 'function' ? (backend as HeapBackend) : undefined;
}

/** Arrays kept per size for reuse once given back. */
const MAX_KEPT_PER_SIZE = 4;

/** A tensor's values on the host and the function that gives their array back once it is no longer read. */
export interface HostCopy {
  data: Float32Array;
  release: () => void;
}

/**
 * Host copies of tensors' values (stimuli fed to ONNX Runtime, validation stimuli compared across sessions), in
 * arrays reused from call to call on the wasm backend. There `dataSync` returns a fresh copy each time, and fresh
 * memory is expensive to touch first: on the benchmark VM a 32 × 50-frame stimulus (3.7 MB, ~900 pages) cost 10–30 ms
 * more per prediction for the first ~8 predictions of a process, until the allocator began reusing freed blocks. An
 * array is taken for as long as it is read and given back after, so two holders never share one. Other backends read
 * as before (the cpu backend's `dataSync` is the tensor's own storage, no copy): read only.
 */
export class HostCopies {
  private readonly free = new Map<number, Float32Array[]>();

  /** The values of `x` (float32). */
  async take(x: tf.Tensor): Promise<HostCopy> {
    const backend = heapBackend(x);
    return backend ? this.copy(x, backend) : { data: await readFloats(x), release: () => undefined };
  }

  /** {@link take} for synchronous code ({@link readFloatsSync} elsewhere than wasm, which may block). */
  takeSync(x: tf.Tensor): HostCopy {
    const backend = heapBackend(x);
    return backend ? this.copy(x, backend) : { data: readFloatsSync(x), release: () => undefined };
  }

  /** `x`'s values copied from the wasm heap into a reused array. */
  private copy(x: tf.Tensor, backend: HeapBackend): HostCopy {
    let pool = this.free.get(x.size);
    if (!pool) {
      pool = [];
      this.free.set(x.size, pool);
      // a few sizes at most (training, validation and test lengths); the oldest goes first
      if (this.free.size > 4) this.free.delete(this.free.keys().next().value!);
    }
    const data = pool.pop() ?? new Float32Array(x.size);
    data.set(backend.typedArrayFromHeap(x)); // a view of the wasm heap, valid until the next TF.js call: copied at once
    const owner = pool;
    // a few arrays per size are kept (more are in use only while that many holders overlap)
    return { data, release: () => void (owner.length < MAX_KEPT_PER_SIZE && owner.push(data)) };
  }

  clear(): void {
    this.free.clear();
  }
}
