import type { FrameReader } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { FrameSequence } from '../frames.js';
import { MT19937 } from '../random/mt19937.js';

/*
 * How a training movie is cut into train and validation clips, and the test batch size, as OpenRetina does it.
 */

/** OpenRetina's `_compute_test_batch_size`: keeps test batches about as large in memory as train batches. */
export function computeTestBatchSize(trainBatchSize: number, trainChunkSize: number, testChunkSize: number): number {
  if (testChunkSize <= trainChunkSize) return trainBatchSize;
  return Math.max(1, Math.floor((trainBatchSize * trainChunkSize) / testChunkSize));
}

/**
 * Validation clips drawn as OpenRetina draws them: `np.random.RandomState(seed).choice(numClips, numValClips,
 * replace=False)` (bit-identical: our MT19937 reproduces numpy's legacy generator).
 */
export function drawValidationClips(numClips: number, numValClips: number, seed = 42): number[] {
  if (numValClips > numClips) {
    throw new ConfigError(`Cannot draw ${numValClips} validation clips from ${numClips} clips.`);
  }
  return new MT19937(seed >>> 0).choiceWithoutReplacement(numClips, numValClips);
}

/** Train and validation frames after cutting validation clips out (OpenRetina's `generate_movie_splits`). */
export interface ClipSplit {
  /** The remaining clips, in their original order. */
  train: FrameSequence;
  /** The validation clips, in the given order. */
  validation: FrameSequence;
  trainClipIndices: number[];
}

/**
 * Splits a time-major array into clips of `clipLength` frames; validation = the selected clips in the given order,
 * train = the other clips in order. Frames beyond `numClips · clipLength` are dropped. Views, no copy; with a
 * {@link FrameReader} instead of an array, frame ranges of it (each clip read on demand when batched).
 */
export function splitClips(
  data: Float32Array | FrameReader,
  frameSize: number,
  valClipIndices: readonly number[],
  numClips: number,
  clipLength: number,
): ClipSplit {
  const seen = new Set<number>();
  for (const i of valClipIndices) {
    if (!Number.isInteger(i) || i < 0 || i >= numClips) {
      throw new ConfigError(`Validation clip index ${i} is outside [0, ${numClips}).`);
    }
    if (seen.has(i)) throw new ConfigError(`Validation clip index ${i} is given twice.`);
    seen.add(i);
  }
  const frames = data instanceof Float32Array ? data.length / frameSize : data.frames;
  if (frames < numClips * clipLength) {
    throw new DataError(`${numClips} clips of ${clipLength} frames need ${numClips * clipLength} frames, got ${frames}.`);
  }
  const trainClipIndices: number[] = [];
  for (let i = 0; i < numClips; i++) if (!seen.has(i)) trainClipIndices.push(i);
  return {
    train: FrameSequence.fromClips(data, frameSize, clipLength, trainClipIndices),
    validation: FrameSequence.fromClips(data, frameSize, clipLength, valClipIndices),
    trainClipIndices,
  };
}
