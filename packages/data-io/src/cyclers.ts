import { DataError } from '@openretina/contracts';
import { MT19937 } from './random/mt19937.js';

/** An iterable that knows how many items one pass yields (a data loader). */
export interface SizedIterable<T> extends Iterable<T> {
  readonly length: number;
}

/**
 * Repeats an iterable forever without caching: each pass creates a new iterator, so a shuffling loader is reshuffled
 * every pass. Throws if a pass yields nothing.
 */
export function* cycle<T>(iterable: Iterable<T>): Generator<T, never, undefined> {
  for (;;) {
    let any = false;
    for (const item of iterable) {
      any = true;
      yield item;
    }
    if (!any) throw new DataError('cycle: the iterable yielded nothing; cannot cycle over an empty loader.');
  }
}

/** Options of {@link LongCycler}. */
export interface LongCyclerOptions {
  /** Shuffle the session order at the start of every pass (default true). */
  shuffle?: boolean;
  /** Seed of the session-order stream (default 42). */
  seed?: number;
}

/**
 * Round-robin over sessions until the longest loader is exhausted (OpenRetina's `LongCycler`): one pass yields
 * `nSessions × maxBatches` `[session, batch]` pairs, one session after another in a (shuffled) session order; shorter
 * loaders restart (and reshuffle) when they run out.
 */
export class LongCycler<T> implements Iterable<[string, T]> {
  readonly loaders: Readonly<Record<string, SizedIterable<T>>>;
  readonly maxBatches: number;
  readonly shuffle: boolean;
  private readonly rng: MT19937;

  constructor(loaders: Readonly<Record<string, SizedIterable<T>>>, options: LongCyclerOptions = {}) {
    const keys = Object.keys(loaders);
    if (keys.length === 0) throw new DataError('LongCycler needs at least one loader.');
    this.loaders = loaders;
    this.maxBatches = Math.max(...keys.map((k) => loaders[k]!.length));
    this.shuffle = options.shuffle ?? true;
    this.rng = new MT19937((options.seed ?? 42) >>> 0);
  }

  get length(): number {
    return Object.keys(this.loaders).length * this.maxBatches;
  }

  *[Symbol.iterator](): Iterator<[string, T]> {
    const keys = Object.keys(this.loaders).sort();
    if (this.shuffle) this.rng.shuffle(keys);
    const cycles = keys.map((k) => cycle(this.loaders[k]!));
    const total = this.length;
    for (let i = 0; i < total; i++) {
      const j = i % keys.length;
      yield [keys[j]!, cycles[j]!.next().value as T];
    }
  }
}

/** Every batch of every loader exactly once, sessions in sorted order (OpenRetina's `ShortCycler`). */
export class ShortCycler<T> implements Iterable<[string, T]> {
  readonly loaders: Readonly<Record<string, SizedIterable<T>>>;

  constructor(loaders: Readonly<Record<string, SizedIterable<T>>>) {
    this.loaders = loaders;
  }

  get length(): number {
    return Object.values(this.loaders).reduce((a, l) => a + l.length, 0);
  }

  *[Symbol.iterator](): Iterator<[string, T]> {
    for (const k of Object.keys(this.loaders).sort()) for (const item of this.loaders[k]!) yield [k, item];
  }
}
