/**
 * Our own seeded streams: every loader that shuffles draws from an MT19937 seeded with a 32-bit seed derived from
 * the user's seed and a name (fold and session), so that sessions get independent, reproducible streams.
 */

/** A 32-bit seed derived from a base seed and a string (FNV-1a), for per-session streams. */
export function deriveSeed(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
