import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchNorm3d, StateRecord, floatStateVariables, readState, readStateSync } from '../src/index.js';

describe('StateRecord: whether the state something was derived from still holds', () => {
  const owned: { dispose(): void }[] = [];
  afterEach(() => {
    for (const m of owned.splice(0)) m.dispose();
  });
  const norm = (): BatchNorm3d => {
    const m = new BatchNorm3d(3);
    owned.push(m);
    return m;
  };

  it('floatStateVariables lists the float parameters and buffers, not the integer batch count', () => {
    const m = norm();
    const vars = floatStateVariables(m);
    expect(vars).toHaveLength(4); // weight, bias, running mean and variance
    expect(vars.every((v) => v.dtype === 'float32')).toBe(true);
    expect(m.namedBuffers().size).toBe(3); // num_batches_tracked is the one left out
  });

  it('holds while no variable gets new data; the same values assigned again match and are then held', async () => {
    const before = tf.memory().numTensors;
    const m = norm();
    const vars = floatStateVariables(m);
    const record = new StateRecord(await readState(vars));
    expect(record.holdsData(vars)).toBe(true);
    const weight = m.namedParameters().get('weight')!;
    tf.tidy(() => weight.assign(tf.ones([3]))); // the same values, new data
    expect(record.holdsData(vars)).toBe(false);
    expect(record.matches(readStateSync(vars))).toBe(true);
    expect(record.holdsData(vars)).toBe(true); // the new data were taken as holding the recorded values
    tf.tidy(() => weight.assign(tf.tensor1d([1, 2, 1])));
    expect(record.holdsData(vars)).toBe(false);
    expect(record.matches(readStateSync(vars))).toBe(false);
    expect(record.holdsData(vars)).toBe(false); // a failed match records nothing
    expect(tf.memory().numTensors).toBe(before + 5); // the module's own
  });

  it('keeps a copy: writing to the arrays of the reading afterwards does not change what was recorded', () => {
    const values = [Float32Array.of(1, 2)];
    const record = new StateRecord({ data: [{}], values });
    values[0]![0] = 9;
    expect(record.matches({ data: [{}], values })).toBe(false);
    expect(record.matches({ data: [{}], values: [Float32Array.of(1, 2)] })).toBe(true);
  });

  it('a reading of the recorded data matches without comparing values (what shares a record is checked once)', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    owned.push(v);
    const reading = readStateSync([v]);
    const record = new StateRecord(reading);
    // the same data with other values cannot come from TF.js; made up here, it shows that no compare ran
    expect(record.matches({ data: reading.data, values: [Float32Array.of(5, 6)] })).toBe(true);
    expect(record.matches({ data: [{}], values: [Float32Array.of(5, 6)] })).toBe(false);
  });

  it('NaN matches NaN; another number of variables does not match', () => {
    const v = tf.variable(tf.tensor1d([Number.NaN, 1]));
    owned.push(v);
    const record = new StateRecord(readStateSync([v]));
    tf.tidy(() => v.assign(tf.tensor1d([Number.NaN, 1])));
    expect(record.matches(readStateSync([v]))).toBe(true);
    expect(record.holdsData([v, v])).toBe(false);
    expect(record.matches(readStateSync([v, v]))).toBe(false);
  });

  it('a variable assigned while a reading is awaited leaves the reading stale, never current', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    owned.push(v);
    const pending = readState([v]);
    tf.tidy(() => v.assign(tf.tensor1d([3, 4])));
    const record = new StateRecord(await pending);
    expect(record.holdsData([v])).toBe(false);
    expect(record.matches(readStateSync([v]))).toBe(false);
  });
});
