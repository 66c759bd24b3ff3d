import type * as tf from '@tensorflow/tfjs-core';
import { readFloats, readFloatsSync, sameValues } from './host-values.js';
import type { Module } from './module.js';

/**
 * A module's float32 parameters and buffers: what eval-mode weights derive from (an integer buffer such as
 * BatchNorm's batch count enters none of them).
 */
export function floatStateVariables(module: Module): tf.Variable[] {
  return [...module.namedParameters().values(), ...module.namedBuffers().values()].filter((v) => v.dtype === 'float32');
}

/** Float state read at one moment: the data each variable held, then its values (read only, not copied). */
export interface StateReading {
  readonly data: readonly object[];
  readonly values: readonly Float32Array[];
}

/**
 * Reads `variables`' data and values. The data are taken before the values are awaited, so a variable assigned
 * meanwhile makes the reading look stale later, never current.
 */
export async function readState(variables: readonly tf.Variable[]): Promise<StateReading> {
  const data = variables.map((v) => v.dataId);
  return { data, values: await Promise.all(variables.map((v) => readFloats(v))) };
}

/** {@link readState} for synchronous code (`dataSync` where the values are not known, which may block). */
export function readStateSync(variables: readonly tf.Variable[]): StateReading {
  return { data: variables.map((v) => v.dataId), values: variables.map((v) => readFloatsSync(v)) };
}

/**
 * The state something was derived from (eval weights, compiled matrices), to tell later whether it still holds.
 * TF.js never changes a tensor's data in place (`assign` gives a variable new data), so while every variable holds the
 * recorded data nothing needs to be read ({@link holdsData}); otherwise a new reading is compared with the recorded
 * values ({@link matches}), since assigning the same values again is common (a positive readout's forward assigns its
 * clamped features anew). A record may be shared by several derived things made from the same reading.
 */
export class StateRecord {
  private data: readonly object[];
  private readonly values: readonly Float32Array[];

  /** Records `reading`, copying its values. */
  constructor(reading: StateReading) {
    this.data = reading.data;
    this.values = reading.values.map((a) => a.slice());
  }

  /** Whether every variable still holds the data it held when recorded (nothing is read). */
  holdsData(variables: readonly tf.Variable[]): boolean {
    return variables.length === this.data.length && variables.every((v, i) => v.dataId === this.data[i]);
  }

  /**
   * Whether `reading` has the recorded values (NaN equal to NaN). If so, its data are recorded instead, so that
   * {@link holdsData} accepts them without another read. A reading of the recorded data matches without a compare
   * (several things derived from one reading share a record: the first match records the data for all of them).
   */
  matches(reading: StateReading): boolean {
    if (sameData(reading.data, this.data)) return true;
    const same = reading.values.length === this.values.length && reading.values.every((a, i) => sameValues(a, this.values[i]!));
    if (same) this.data = reading.data;
    return same;
  }
}

function sameData(a: readonly object[], b: readonly object[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
