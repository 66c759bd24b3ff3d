// The generic HDF5 reader's lazy path (train movies and responses read per clip on demand) against the eager one on a
// tiny dataset: the same values, the same data info, the same batches.
import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Movie, Responses } from '@openretina/contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { computeDataInfo, framesOf, isLazy, multipleMoviesDataloaders } from '../src/index.js';
import { readHdf5Dataset, writeHdf5Dataset } from '../src/node.js';

await tf.setBackend('cpu');
const tmp = mkdtempSync(join(tmpdir(), 'dataio-lazy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let seed = 7;
function uniform(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
function movie(t: number): Movie {
  return { data: Float32Array.from({ length: t * 3 * 2 * 2 }, () => uniform() * 4 - 1), shape: [t, 3, 2, 2] };
}
function responses(t: number, n: number): Responses {
  return { data: Float32Array.from({ length: t * n }, () => Math.floor(uniform() * 5) + uniform()), shape: [t, n] };
}

// 3 train stimuli of 40 + 35 + 27 frames (10 clips of 10, 2 frames beyond), a test stimulus, two sessions of 3 and 4
// neurons, the second with a session-specific stimulus "b"
const dir = join(tmp, 'tiny');
await writeHdf5Dataset(dir, {
  stimuli: { a: movie(40), b: movie(35), c: movie(27), t: movie(20) },
  sessions: {
    s1: {
      responses: { a: responses(40, 3), b: responses(35, 3), c: responses(27, 3), t: responses(20, 3) },
      sessionInfo: { q: [1, 2, 3] },
    },
    s2: { responses: { a: responses(40, 4), b: responses(35, 4), c: responses(27, 4), t: responses(20, 4) }, stimuli: { b: movie(35) } },
  },
});
const options = { testNames: ['t'], normMean: 0.25, normStd: 1.5 };
const loaderOptions = { batchSize: 3, trainChunkSize: 7, clipLength: 10, numValClips: 3, seed: 5 };

describe('lazy reading of the generic HDF5 format', () => {
  it('reads the same values as the eager path, and only the train parts on demand', async () => {
    const eager = await readHdf5Dataset(dir, options);
    const lazy = await readHdf5Dataset(dir, { ...options, lazyThresholdBytes: 0 });
    try {
      expect(eager.lazy).toBe(false);
      expect(lazy.lazy).toBe(true);
      for (const s of ['s1', 's2']) {
        const [em, lm] = [eager.movies[s]!, lazy.movies[s]!];
        const [er, lr] = [eager.responses[s]!, lazy.responses[s]!];
        expect(isLazy(lm.train)).toBe(true);
        expect(isLazy(lr.train)).toBe(true);
        expect(isLazy(em.train)).toBe(false);
        expect(lm.train.shape).toEqual(em.train.shape);
        expect(lr.train.shape).toEqual(er.train.shape);
        expect(framesOf(lm.train).toArray()).toEqual(framesOf(em.train).toArray());
        expect(framesOf(lr.train).toArray()).toEqual(framesOf(er.train).toArray());
        expect(lm.test).toEqual(em.test);
        expect(lr.test).toEqual(er.test);
        expect(lr.sessionKwargs).toEqual(er.sessionKwargs);
        expect([lm.normMean, lm.normStd]).toEqual([0.25, 1.5]);
      }
      // s2 overrides stimulus "b": its train movie is its own reader
      expect(lazy.movies.s1!.train).not.toBe(lazy.movies.s2!.train);
      expect(computeDataInfo(lazy.responses, lazy.movies)).toEqual(computeDataInfo(eager.responses, eager.movies));
    } finally {
      lazy.close();
    }
  });

  it('gives the same batches, epoch after epoch, and leaks no tensor', async () => {
    const eager = await readHdf5Dataset(dir, options);
    const lazy = await readHdf5Dataset(dir, { ...options, lazyThresholdBytes: 0 });
    try {
      const before = tf.memory().numTensors;
      const de = multipleMoviesDataloaders(eager.responses, eager.movies, loaderOptions);
      const dl = multipleMoviesDataloaders(lazy.responses, lazy.movies, loaderOptions);
      expect(Object.keys(dl).sort()).toEqual(['t', 'train', 'validation']);
      let batches = 0;
      for (const fold of Object.keys(de)) {
        expect(Object.keys(dl[fold]!).sort()).toEqual(Object.keys(de[fold]!).sort());
        for (const session of Object.keys(de[fold]!)) {
          const [le, ll] = [de[fold]![session]!, dl[fold]![session]!];
          // train and validation clips are ranges of the readers, nothing of the data is held
          expect(ll.movie.lazy).toBe(fold !== 't');
          expect(ll.meanResponse).toEqual(le.meanResponse);
          for (let epoch = 0; epoch < 2; epoch++) {
            const ib = [...le];
            const jb = [...ll];
            expect(jb.length).toBe(ib.length);
            ib.forEach((b, k) => {
              expect(jb[k]!.inputs.shape).toEqual(b.inputs.shape);
              expect(jb[k]!.inputs.dataSync()).toEqual(b.inputs.dataSync());
              expect(jb[k]!.targets.dataSync()).toEqual(b.targets.dataSync());
              batches++;
            });
            for (const b of [...ib, ...jb]) tf.dispose([b.inputs, b.targets]);
          }
        }
      }
      expect(batches).toBeGreaterThan(10);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      lazy.close();
    }
  });

  it('names the file when a session file is cut after loading', async () => {
    const cut = join(tmp, 'cut');
    await writeHdf5Dataset(cut, {
      stimuli: { a: movie(30), t: movie(10) },
      sessions: { s: { responses: { a: responses(30, 2), t: responses(10, 2) } } },
    });
    const lazy = await readHdf5Dataset(cut, { testNames: ['t'], lazyThresholdBytes: 0 });
    lazy.close();
    truncateSync(join(cut, 'stimuli', 'a.npy'), 200);
    const dst = new Float32Array(12 * 10);
    expect(() => framesOf(lazy.movies.s!.train).copyFrames(20, 10, dst)).toThrow(/a\.npy: the file ended at byte \d+ while reading a clip/);
    truncateSync(join(cut, 's.hdf5'), 1000);
    expect(() => framesOf(lazy.responses.s!.train).copyFrames(0, 10, dst)).toThrow(/s\.hdf5/);
  });
});
