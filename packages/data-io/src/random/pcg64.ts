import { ConfigError } from '@openretina/contracts';
import { maskedInterval } from './bounded-draw.js';
import { seedSequenceState } from './seed-sequence.js';

const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = (2549297995355413924n << 64n) + 4865540595714422341n;

/**
 * The PCG64 bit generator behind `np.random.default_rng(seed)` (XSL-RR 128/64, seeded through `SeedSequence`), with
 * numpy's `Generator.shuffle` / `permutation` draws (bounded integers by masked rejection on buffered 32-bit halves).
 * With the same seed and calls it gives numpy's numbers exactly; it is only as fast as BigInt arithmetic allows (a few
 * million draws per second), which is plenty for shuffling sample indices.
 */
export class Pcg64 {
  private state: bigint;
  private readonly inc: bigint;
  private hasUint32 = false;
  private uinteger = 0;

  constructor(seed: number | bigint) {
    const w = seedSequenceState(seed, 8);
    const u64 = (k: number) => (BigInt(w[2 * k + 1]!) << 32n) | BigInt(w[2 * k]!);
    const initState = (u64(0) << 64n) | u64(1);
    const initSeq = (u64(2) << 64n) | u64(3);
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.state = 0n;
    this.step();
    this.state = (this.state + initState) & MASK128;
    this.step();
  }

  private step(): void {
    this.state = (this.state * PCG_MULT + this.inc) & MASK128;
  }

  /** The raw `(state, inc)` (as numpy's `bit_generator.state`). */
  get rawState(): { state: bigint; inc: bigint } {
    return { state: this.state, inc: this.inc };
  }

  /** A uniform 64-bit integer. */
  nextUint64(): bigint {
    this.step();
    const hi = this.state >> 64n;
    const lo = this.state & MASK64;
    const x = hi ^ lo;
    const rot = hi >> 58n;
    return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
  }

  /** A uniform 32-bit integer (numpy buffers the high half of a 64-bit draw for the next call). */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    const next = this.nextUint64();
    this.hasUint32 = true;
    this.uinteger = Number(next >> 32n);
    return Number(next & 0xffffffffn);
  }

  /** A uniform integer in `[0, max]` (numpy's `random_interval`, `max < 2^32`). */
  interval(max: number): number {
    if (max > 0xffffffff) throw new ConfigError(`Pcg64.interval supports max < 2^32, got ${max}.`);
    return maskedInterval(max, () => this.nextUint32());
  }

  /** Shuffles in place like `Generator.shuffle` (Fisher–Yates from the last element). */
  shuffle<T>(values: T[]): T[] {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = values[i]!;
      values[i] = values[j]!;
      values[j] = t;
    }
    return values;
  }
}
