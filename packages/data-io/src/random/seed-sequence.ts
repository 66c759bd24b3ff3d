import { ConfigError } from '@openretina/contracts';
/**
 * numpy's `SeedSequence(seed).generate_state(nWords, uint32)` for a non-negative integer seed (no spawn key): the
 * entropy is split into 32-bit words, mixed into a pool of 4 words, and the pool is hashed into the output words.
 */
export function seedSequenceState(seed: number | bigint, nWords: number): Uint32Array {
  let s = BigInt(seed);
  if (s < 0n) throw new ConfigError(`SeedSequence entropy must be non-negative, got ${seed}.`);
  const entropy: number[] = [];
  do {
    entropy.push(Number(s & 0xffffffffn));
    s >>= 32n;
  } while (s > 0n);
  const poolSize = 4;
  let hashConst = 0x43b0d7e5;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, 0x931e8875) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool = new Array<number>(poolSize);
  for (let i = 0; i < poolSize; i++) pool[i] = hashmix(i < entropy.length ? entropy[i]! : 0);
  for (let src = 0; src < poolSize; src++) {
    for (let dst = 0; dst < poolSize; dst++) if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!));
  }
  for (let src = poolSize; src < entropy.length; src++) {
    for (let dst = 0; dst < poolSize; dst++) pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!));
  }
  const out = new Uint32Array(nWords);
  let hb = 0x8b51f9dd;
  for (let i = 0; i < nWords; i++) {
    let v = (pool[i % poolSize]! ^ hb) >>> 0;
    hb = Math.imul(hb, 0x58f38ded) >>> 0;
    v = Math.imul(v, hb) >>> 0;
    out[i] = (v ^ (v >>> 16)) >>> 0;
  }
  return out;
}
