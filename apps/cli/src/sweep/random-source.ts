// Seeded pseudo-random numbers for the samplers: reproducible across machines and restarts, because every trial's
// stream is derived from (study seed, trial number, purpose) rather than from one stream that depends on history.

/** A stream of uniform numbers in [0, 1) (mulberry32). */
export interface RandomSource {
  next(): number;
  /** A standard normal draw (Box–Muller). */
  normal(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

/** 32-bit FNV-1a of a string: folds the stream's name into its seed. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The random stream of `purpose` for one trial of a study seeded with `seed`. */
export function randomSource(seed: number, trial: number, purpose: string): RandomSource {
  let state = fnv1a(`${seed}:${trial}:${purpose}`) || 1;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    int: (n) => Math.min(n - 1, Math.floor(next() * n)),
  };
}
