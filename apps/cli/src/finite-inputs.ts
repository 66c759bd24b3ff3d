// Non-finite values are refused where they enter the CLI: stimuli, responses and weights read from files.
import type * as tf from '@tensorflow/tfjs-core';
import { assertFinite } from '@openretina/layers';
import type { ExperimentData } from './readers/reader.js';

/** Every stimulus and response array of an experiment's data (each shared array once); `where` names the data folder. */
export function assertFiniteData(data: ExperimentData, where: string): void {
  const seen = new Set<unknown>();
  const check = (a: { data: Float32Array; shape: readonly number[] }, what: string) => {
    if (seen.has(a)) return;
    seen.add(a);
    assertFinite(a.data, `${where}: ${what}`, a.shape);
  };
  for (const [session, m] of Object.entries(data.movies)) {
    check(m.train, `the train stimulus of ${session} ([T, H, W, C])`);
    for (const [name, t] of Object.entries(m.test)) check(t, `the test stimulus ${name} of ${session} ([T, H, W, C])`);
  }
  for (const [session, r] of Object.entries(data.responses)) {
    check(r.train, `the train responses of ${session} ([T, neurons])`);
    for (const [name, t] of Object.entries(r.test)) check(t, `the ${name} responses of ${session} ([T, neurons])`);
    for (const [name, t] of Object.entries(r.testByTrial ?? {}))
      check(t, `the ${name} trial responses of ${session} ([trials, T, neurons])`);
  }
}

/** Every parameter of a loaded model (models without named parameters, e.g. ONNX files, are skipped). */
export function assertFiniteWeights(model: unknown, source: string): void {
  const m = model as { namedParameters?: () => Map<string, tf.Variable> };
  if (typeof m.namedParameters !== 'function') return;
  for (const [name, v] of m.namedParameters()) assertFinite(v, `${source}: the weight ${name}`);
}
