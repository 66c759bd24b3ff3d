import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { SessionBatch } from '@openretina/contracts';
import { TfjsEngine } from '@openretina/models';
import { collectPredictions, evaluateModel, validate } from '../src/index.js';
import { stimulusGroups } from '../src/stimulus-groups.js';
import { batch, tinyModel } from './tiny-training.js';

/** Validation batches: s1 and s2 recorded with one movie (same seed → same inputs), s3 with another. */
function sharedMovieBatches(): SessionBatch[] {
  return [batch('s1', 5), batch('s1', 6), batch('s2', 5), batch('s2', 6), batch('s3', 9)];
}

/** An engine with only `predictSessions` (answered by `reference`), recording the sessions of each call. */
function groupedEngine(reference: TfjsEngine) {
  const calls: string[][] = [];
  const grouped = {
    predict: () => Promise.reject(new Error('predict is not used when predictSessions exists')),
    predictSessions: async (x: tf.Tensor5D, sessions: readonly string[]) => {
      calls.push([...sessions]);
      return Promise.all(sessions.map((s) => reference.predict(x, s)));
    },
  };
  return { calls, grouped };
}

describe('validation with one forward per shared stimulus', () => {
  it('stimulusGroups groups batches with equal stimuli across sessions, keeps one input, and frees the rest', () => {
    const before = tf.memory().numTensors;
    const groups = [...stimulusGroups(sharedMovieBatches())];
    expect(groups.map((g) => g.members.map((m) => `${m.session}#${m.index}`))).toEqual([['s1#0', 's2#2'], ['s1#1', 's2#3'], ['s3#4']]);
    // one input per group and every batch's targets are left: 3 inputs + 5 targets
    expect(tf.memory().numTensors).toBe(before + 8);
    for (const g of groups) tf.dispose([g.inputs, ...g.members.map((m) => m.targets)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stimulusGroups hands out the oldest group when the waiting stimuli exceed the bound, and frees what is left when stopped', () => {
    const before = tf.memory().numTensors;
    // a bound below one stimulus: every batch runs on its own, as without grouping
    const alone = [...stimulusGroups(sharedMovieBatches(), 0)];
    expect(alone.map((g) => g.members.map((m) => m.session))).toEqual([['s1'], ['s1'], ['s2'], ['s2'], ['s3']]);
    for (const g of alone) tf.dispose([g.inputs, ...g.members.map((m) => m.targets)]);
    // a consumer that stops after the first group: the groups still waiting are disposed by the generator
    for (const g of stimulusGroups(sharedMovieBatches())) {
      tf.dispose([g.inputs, ...g.members.map((m) => m.targets)]);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validate() with predictSessions calls it once per shared stimulus and gives the metrics of one predict per batch', async () => {
    const model = tinyModel(3);
    const reference = new TfjsEngine(model);
    const { calls, grouped } = groupedEngine(reference);
    const before = tf.memory().numTensors;
    const want = await validate(model, sharedMovieBatches(), reference);
    const got = await validate(model, sharedMovieBatches(), grouped);
    expect(calls).toEqual([['s1', 's2'], ['s1', 's2'], ['s3']]);
    // same predictions, metrics averaged in the batches' order: identical numbers
    expect(got).toEqual(want);
    expect(Object.keys(got)).toContain('val_evaluation_loss');
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('evaluateModel() with predictSessions: one call per shared stimulus, the rows of one predict per batch', async () => {
    const model = tinyModel(4);
    const reference = new TfjsEngine(model);
    const { calls, grouped } = groupedEngine(reference);
    // two sessions' splits of two batches each on one movie, and one on another
    const split = () => ({
      s1: { batches: [batch('s1', 5), batch('s1', 6)] },
      s2: { batches: [batch('s2', 5), batch('s2', 6)] },
      s3: { batches: [batch('s3', 9)] },
    });
    const before = tf.memory().numTensors;
    const want = await evaluateModel(model, split(), { dataSplit: 'validation' }, reference);
    const got = await evaluateModel(model, split(), { dataSplit: 'validation' }, grouped);
    expect(calls).toEqual([['s1', 's2'], ['s1', 's2'], ['s3']]);
    expect(got.rows).toEqual(want.rows);
    expect(got.summary).toEqual(want.summary);
    // the predictions the metrics came from, per session, as one session's collectPredictions gives them
    expect(Object.keys(got.collected).sort()).toEqual(['s1', 's2', 's3']);
    expect(got.collected).toEqual(want.collected);
    expect(got.collected.s2).toEqual(await collectPredictions(model, [batch('s2', 5), batch('s2', 6)], reference));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('validate() frees every batch when predictSessions fails', async () => {
    const model = tinyModel(3);
    const failing = {
      predict: () => Promise.reject(new Error('unused')),
      predictSessions: () => Promise.reject(new Error('engine failed')),
    };
    const before = tf.memory().numTensors;
    await expect(validate(model, sharedMovieBatches(), failing)).rejects.toThrow('engine failed');
    expect(tf.memory().numTensors).toBe(before);
    expect(model.training).toBe(true);
    model.dispose();
  });
});
