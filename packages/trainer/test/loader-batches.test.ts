import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { getMovieDataloader } from '@openretina/data-io';

// The data loaders assemble batches in two host arrays that every batch reuses where the backend copies a tensor's
// values on creation (wasm); this suite runs on cpu (fresh arrays) and on wasm (reused ones).
describe(`data loader batches on ${tf.getBackend()}`, () => {
  it('each batch keeps its own values while later batches are built', () => {
    const [T, h, w, c, N] = [130, 2, 3, 2, 4];
    const movie = new Float32Array(T * h * w * c).map((_, i) => Math.floor(i / (h * w * c)) * 1000 + (i % (h * w * c)));
    const responses = new Float32Array(T * N).map((_, i) => Math.floor(i / N) + (i % N) / 100);
    const loader = getMovieDataloader(
      { data: movie, shape: [T, h, w, c] },
      { data: responses, shape: [T, N] },
      { split: 'train', chunkSize: 10, batchSize: 4, sceneLength: 25, seed: 3, dropLast: false },
    )!;
    const before = tf.memory().numTensors;
    const batches = [...loader]; // all built before any is read
    expect(batches.map((b) => b.inputs.shape[0])).toEqual([4, 4, 4, 1]);
    const starts: number[] = [];
    for (const b of batches) {
      const x = b.inputs.dataSync();
      const y = b.targets.dataSync();
      for (let i = 0; i < b.inputs.shape[0]; i++) {
        const start = Math.round(y[i * 10 * N]!); // response (f, 0) = f
        starts.push(start);
        for (let f = 0; f < 10; f++) {
          for (let j = 0; j < N; j++) expect(y[(i * 10 + f) * N + j]).toBeCloseTo(start + f + j / 100, 4);
          for (let k = 0; k < h * w * c; k++) expect(x[(i * 10 + f) * h * w * c + k]).toBe((start + f) * 1000 + k);
        }
      }
    }
    // 13 chunks, each in one batch: a batch overwritten by a later one would repeat the later one's chunks
    expect(new Set(starts).size).toBe(13);
    tf.dispose(batches.flatMap((b) => [b.inputs, b.targets]));
    expect(tf.memory().numTensors).toBe(before);
  });
});
