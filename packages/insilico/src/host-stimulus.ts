import * as tf from '@tensorflow/tfjs-core';
import { readFloats } from '@openretina/layers';

/**
 * A stimulus variable's values on the host, kept from one MEI host step to the next and across `optimizeStimulus`
 * calls (the demo and the benchmarks step once per call). Each step assigns the variable from a host array, so while
 * the variable still holds that data (its `dataId`: TF.js tensors are immutable and `assign` gives a variable new
 * data) the host copy is current and needs no read and no finiteness check. On the wasm backend `tf.tensor` copies
 * the array into the wasm heap, so two arrays take turns (fresh memory is slow to touch on the first steps of a
 * process); other backends may keep the array as the tensor's data (the cpu backend does), so each step writes a
 * fresh one there.
 */
export class HostStimulus {
  private static readonly kept = new WeakMap<tf.Variable, HostStimulus>();
  /** The variable's `dataId` while `values` are its values and finite. */
  private data: object | null = null;
  private values: Float32Array | null = null;
  private spare: Float32Array | null = null;
  private busy = false;

  private constructor(private readonly x: tf.Variable) {}

  /** Whether `x` holds values a host step wrote (finite ones): its initial check can be skipped. */
  static holdsCheckedValues(x: tf.Variable): boolean {
    return HostStimulus.kept.get(x)?.current ?? false;
  }

  /** The host values of `x` for one run of steps; {@link release} it afterwards (a run in flight keeps its own). */
  static acquire(x: tf.Variable): HostStimulus {
    let h = HostStimulus.kept.get(x);
    if (!h) {
      h = new HostStimulus(x);
      HostStimulus.kept.set(x, h);
    } else if (h.busy) h = new HostStimulus(x);
    h.busy = true;
    return h;
  }

  release(): void {
    this.busy = false;
  }

  private get current(): boolean {
    return this.values !== null && this.data === this.x.dataId;
  }

  /** The variable's values (read only). */
  async read(): Promise<Float32Array> {
    if (!this.current) {
      // wasm: a copy of the heap, ours to reuse; cpu: the tensor's own storage, never written (no spare there)
      this.values = await readFloats(this.x);
      this.spare = null;
      this.data = null; // not known finite: the caller checked it or reads it for the first step
    }
    return this.values!;
  }

  /** An array for the next values (not the current ones). */
  target(): Float32Array {
    if (tf.getBackend() === 'wasm' && this.spare) return this.spare;
    return new Float32Array(this.x.size);
  }

  /** Assigns `next` (from {@link target}) to the variable; `finite`: whether every value is, else it is not kept. */
  assign(next: Float32Array, finite: boolean): void {
    const t = tf.tensor(next, this.x.shape, 'float32');
    this.x.assign(t);
    t.dispose();
    if (tf.getBackend() === 'wasm' && this.values !== null && this.values !== next) this.spare = this.values;
    this.values = next;
    this.data = finite ? this.x.dataId : null;
  }
}
