import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type SessionBatch } from '@openretina/contracts';
import { LongCycler, type SizedIterable } from '@openretina/data-io';
import type { TrainingData } from './train-types.js';

/** Loaders per fold then per session (the shape of data-io's `multipleMoviesDataloaders` result). */
export type LoadersByFold = Readonly<Record<string, Readonly<Record<string, SizedIterable<SessionBatch>>>>>;

/** Options of {@link trainingDataFromLoaders}. */
export interface TrainingDataOptions {
  /** Seed of the session order (LongCycler); default 42. */
  seed?: number;
  /** Fold names; defaults "train" and "validation". */
  trainFold?: string;
  validationFold?: string;
}

/**
 * Adapts per-session loaders to {@link TrainingData}: training epochs are LongCycler passes (round-robin over the
 * shuffled sessions, n_sessions × max_batches steps), validation is every batch of every session in sorted order.
 * Epochs must be requested in order; asking for a later epoch (a resumed run) replays the skipped ones to advance
 * the random streams, disposing their batches, so a resumed run sees the same batches as an uninterrupted one.
 */
export function trainingDataFromLoaders(loaders: LoadersByFold, options: TrainingDataOptions = {}): TrainingData {
  const trainFold = loaders[options.trainFold ?? 'train'];
  const valFold = loaders[options.validationFold ?? 'validation'];
  if (!trainFold || Object.keys(trainFold).length === 0)
    throw new ConfigError(`No training loaders (fold "${options.trainFold ?? 'train'}").`);
  if (!valFold || Object.keys(valFold).length === 0)
    throw new ConfigError(`No validation loaders (fold "${options.validationFold ?? 'validation'}").`);
  const cycler = new LongCycler(trainFold, { seed: options.seed ?? 42 });
  let next = 0;
  return {
    stepsPerEpoch: cycler.length,
    *train(epoch: number): Iterable<SessionBatch> {
      if (epoch < next) throw new ConfigError(`Training epoch ${epoch} was already produced; epochs must be requested in order.`);
      while (next < epoch) {
        for (const [, b] of cycler) tf.dispose([b.inputs, b.targets]);
        next++;
      }
      next++;
      for (const [session, b] of cycler) yield b.session === session ? b : { ...b, session };
    },
    *validation(): Iterable<SessionBatch> {
      for (const session of Object.keys(valFold).sort()) {
        for (const b of valFold[session]!) yield b.session === session ? b : { ...b, session };
      }
    },
  };
}
