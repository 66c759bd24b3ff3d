import { ConfigError } from '@openretina/contracts';
/**
 * `MT19937` is the Mersenne Twister as numpy's legacy `RandomState` uses it (integer seeding with
 * `init_genrand`, 53-bit doubles from two 32-bit draws, masked rejection sampling for bounded
 * integers, Fisher–Yates shuffles from the last element, polar Box–Muller normals with a cached
 * second value). With the same seed and the same sequence of calls it gives the same numbers as
 * `np.random.RandomState(seed)`, which lets us reproduce OpenRetina's validation-clip choice
 * (`RandomState(seed).choice(n, k, replace=False)`) exactly. Torch's RNG is not reproduced.
 */

import { maskedInterval } from './bounded-draw.js';

const N = 624;
const M = 397;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;
  private hasGauss = false;
  private gauss = 0;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new ConfigError(`MT19937 seed must be an integer in [0, 2^32 - 1], got ${seed}.`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let k = 0; k < N; k++) {
      const y = (mt[k]! & UPPER_MASK) | (mt[(k + 1) % N]! & LOWER_MASK);
      let v = mt[(k + M) % N]! ^ (y >>> 1);
      if (y & 1) v ^= MATRIX_A;
      mt[k] = v >>> 0;
    }
    this.index = 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits (numpy `random_sample`). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A uniform integer in [0, max] by masked rejection (numpy's bounded draws; max < 2^32). */
  interval(max: number): number {
    return maskedInterval(max, () => this.nextUint32());
  }

  /** A uniform integer in [low, high) (numpy `randint(low, high)`). */
  randint(low: number, high: number): number {
    if (high <= low) throw new ConfigError(`randint: high (${high}) must be greater than low (${low}).`);
    return low + this.interval(high - low - 1);
  }

  /** `size` integers in [low, high). */
  randints(low: number, high: number, size: number): number[] {
    const out: number[] = new Array<number>(size);
    for (let i = 0; i < size; i++) out[i] = this.randint(low, high);
    return out;
  }

  /** A standard normal draw (numpy legacy `gauss`). */
  normal(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      return this.gauss;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.random() - 1;
      x2 = 2 * this.random() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /** Shuffles `values` in place (numpy's legacy shuffle: from the last position down). */
  shuffle<T>(values: T[]): T[] {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const tmp = values[i]!;
      values[i] = values[j]!;
      values[j] = tmp;
    }
    return values;
  }

  /** A random permutation of `0..n-1` (numpy `permutation(n)`). */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** `k` distinct integers from `0..n-1` (numpy `choice(n, k, replace=False)`). */
  choiceWithoutReplacement(n: number, k: number): number[] {
    if (k > n) throw new ConfigError(`Cannot take ${k} samples without replacement from ${n} values.`);
    return this.permutation(n).slice(0, k);
  }
}
