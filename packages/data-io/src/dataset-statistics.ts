import * as tf from '@tensorflow/tfjs-core';
import type { SessionBatch } from '@openretina/contracts';
import { ConfigError } from '@openretina/contracts';
import { fingerprintKey, frameFingerprints, frameTransitions } from './frame-fingerprints.js';

/**
 * Distinct frames and frame transitions the loaders of a dataset serve (OpenRetina's `DatasetStatistics`), counted by
 * {@link computeDataloaderStatistics}.
 */
export interface DatasetStatistics {
  /** Distinct frames over all sessions' training loaders (every augmentation pass). */
  uniqueTrainFrames: number;
  uniqueValFrames: number;
  /** Distinct frames of training and validation together. */
  uniqueTrainValFrames: number;
  /** Distinct frames per test fold. */
  uniqueTestFrames: Record<string, number>;
  /** Distinct consecutive-frame pairs within clips. */
  uniqueTrainTransitions: number;
  uniqueValTransitions: number;
  uniqueTestTransitions: Record<string, number>;
  /** Sessions over all folds. */
  nSessions: number;
}

/** All counts zero (OpenRetina's `DatasetStatistics.empty()`, what evaluation reports when the statistics are off). */
export function emptyDatasetStatistics(): DatasetStatistics {
  return {
    uniqueTrainFrames: 0,
    uniqueValFrames: 0,
    uniqueTrainValFrames: 0,
    uniqueTestFrames: {},
    uniqueTrainTransitions: 0,
    uniqueValTransitions: 0,
    uniqueTestTransitions: {},
    nSessions: 0,
  };
}

/** Options of {@link computeDataloaderStatistics}. */
export interface DataloaderStatisticsOptions {
  /** Passes over the training loaders, to count what their random shifts add (default 10, as OpenRetina). */
  nAugmentationIterations?: number;
}

/** Loaders per fold, then per session. */
type LoadersByFold = Readonly<Record<string, Readonly<Record<string, Iterable<SessionBatch>>>>>;

function collect(
  loaders: Readonly<Record<string, Iterable<SessionBatch>>>,
  passes: number,
): { frames: Set<string>; transitions: Set<string> } {
  const frames = new Set<string>();
  const transitions = new Set<string>();
  for (let pass = 0; pass < passes; pass++) {
    for (const loader of Object.values(loaders)) {
      for (const batch of loader) {
        // the batches are ours to dispose
        try {
          const [b, t] = batch.inputs.shape as number[];
          const fps = frameFingerprints(batch.inputs);
          for (const fp of fps) frames.add(fingerprintKey(fp));
          for (const [x, y] of frameTransitions(fps, b!, t!)) transitions.add(`${fingerprintKey(x)}|${fingerprintKey(y)}`);
        } finally {
          tf.dispose([batch.inputs, batch.targets]);
        }
      }
    }
  }
  return { frames, transitions };
}

/**
 * Counts the distinct frames and transitions the loaders serve (OpenRetina's `compute_dataloader_statistics`): the
 * `train` fold is iterated `nAugmentationIterations` times (its random shifts show new frames), the validation fold
 * (`validation` or `val`) and every other fold (a test stimulus) once. Frames are told apart by their
 * {@link FrameFingerprint}. The batches are disposed here. Our training loaders draw their shifts from their own
 * streams, not torch's, so training counts on real data can differ from OpenRetina's by the luck of the draw;
 * validation and test counts are the same.
 */
export function computeDataloaderStatistics(dataloaders: LoadersByFold, options: DataloaderStatisticsOptions = {}): DatasetStatistics {
  const passes = options.nAugmentationIterations ?? 10;
  if (!Number.isInteger(passes) || passes < 0)
    throw new ConfigError(`nAugmentationIterations must be a non-negative integer, got ${passes}.`);
  const folds = Object.keys(dataloaders);
  const valKey = folds.find((k) => k === 'validation' || k === 'val');
  const testKeys = folds.filter((k) => k !== 'train' && k !== 'validation' && k !== 'val');
  const sessions = new Set<string>();
  for (const fold of folds) for (const s of Object.keys(dataloaders[fold]!)) sessions.add(s);
  const empty = { frames: new Set<string>(), transitions: new Set<string>() };
  const train = dataloaders.train ? collect(dataloaders.train, passes) : empty;
  const val = valKey ? collect(dataloaders[valKey]!, 1) : empty;
  const stats = emptyDatasetStatistics();
  for (const key of testKeys) {
    const test = collect(dataloaders[key]!, 1);
    stats.uniqueTestFrames[key] = test.frames.size;
    stats.uniqueTestTransitions[key] = test.transitions.size;
  }
  stats.uniqueTrainFrames = train.frames.size;
  stats.uniqueValFrames = val.frames.size;
  stats.uniqueTrainValFrames = new Set([...train.frames, ...val.frames]).size;
  stats.uniqueTrainTransitions = train.transitions.size;
  stats.uniqueValTransitions = val.transitions.size;
  stats.nSessions = sessions.size;
  return stats;
}
