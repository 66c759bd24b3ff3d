/**
 * numpy's bounded integer draw in `[0, max]` (`random_interval`): 32-bit words from `next`, masked to the
 * smallest all-ones mask ≥ max, rejected while above max. Shared by every numpy-compatible generator here.
 */
export function maskedInterval(max: number, next: () => number): number {
  if (max === 0) return 0;
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask >>>= 0;
  let value: number;
  do {
    value = (next() & mask) >>> 0;
  } while (value > max);
  return value;
}
