/*
 * Half-precision numbers: IEEE 754 binary16 (numpy `float16`, torch `HalfStorage`, safetensors `F16`) and bfloat16
 * (torch `BFloat16Storage`, safetensors `BF16`, the upper 16 bits of a float32). The one decoder every reader uses.
 */

/** The value of IEEE binary16 bits (subnormals, ±0, ±Infinity and NaN included). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

// A float32 whose upper half is the bfloat16 (bfloat16 is a truncated float32, so this is exact).
const bfloatScratch = new DataView(new ArrayBuffer(4));

/** The value of bfloat16 bits. */
export function bfloat16BitsToNumber(bits: number): number {
  bfloatScratch.setUint32(0, (bits & 0xffff) << 16);
  return bfloatScratch.getFloat32(0);
}

/** Decodes IEEE binary16 bit patterns to float32 (exact: every float16 is a float32). */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToNumber(bits[i]!);
  return out;
}

/** Decodes bfloat16 bit patterns to float32 (exact). */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) words[i] = bits[i]! << 16;
  return out;
}

/** Rounds a number to the nearest IEEE binary16 value (ties to even; overflow to ±Infinity), as numpy's `astype(float16)`. */
export function roundToFloat16(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const a = Math.abs(v);
  if (a >= 65520) return Math.sign(v) * Number.POSITIVE_INFINITY;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const step = 2 ** (e - 10);
  let q = a / step;
  const floor = Math.floor(q);
  const diff = q - floor;
  q = diff > 0.5 || (diff === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  return Math.sign(v) * q * step;
}
