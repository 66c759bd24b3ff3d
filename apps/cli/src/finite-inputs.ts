// Non-finite values are refused where they enter the CLI: stimuli, responses and weights read from files.
import type * as tf from '@tensorflow/tfjs-core';
import type { LazyMovie, LazyResponses, Movie, Responses, TrialResponses } from '@openretina/contracts';
import { DataError, formatShape } from '@openretina/contracts';
import { framesOf } from '@openretina/data-io';
import { assertFinite, firstNonFinite } from '@openretina/layers';
import type { ExperimentData } from './readers/reader.js';

/** A movie or responses read on demand, scanned in blocks of frames (bounded memory); the message of `assertFinite`. */
function assertFiniteFrames(x: LazyMovie | LazyResponses, what: string): void {
  const frameShape = x.shape.slice(1);
  const frameSize = x.reader.frameSize;
  let start = 0;
  framesOf(x).forEachSegment((block) => {
    const frames = block.length / frameSize;
    const found = firstNonFinite(block, [frames, ...frameShape]);
    if (found) {
      const index = [found.index[0]! + start, ...found.index.slice(1)];
      throw new DataError(
        `${what} holds a non-finite value: ${found.value} at index [${index.join(', ')}] (shape ${formatShape(x.shape)}). Every value must be a finite number.`,
        { details: { index, value: found.value } },
      );
    }
    start += frames;
  });
}

/**
 * Every stimulus and response array of an experiment's data (each shared array once; train parts read on demand are
 * scanned clip block by block); `where` names the data folder.
 */
export function assertFiniteData(data: ExperimentData, where: string): void {
  const seen = new Set<unknown>();
  const check = (a: Movie | Responses | TrialResponses | LazyMovie | LazyResponses, what: string) => {
    if (seen.has(a)) return;
    seen.add(a);
    if ('reader' in a) assertFiniteFrames(a, `${where}: ${what}`);
    else assertFinite(a.data, `${where}: ${what}`, a.shape);
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
