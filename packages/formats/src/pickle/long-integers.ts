/*
 * Python ints of any size (LONG, LONG1, LONG4 and text INT): a number when it is exactly representable, else a bigint,
 * so that small integers stay plain numbers and large ones keep every digit.
 */

/** A bigint as a number when it is a safe integer, else unchanged. */
export function normaliseInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Little-endian two's-complement integer of any length (LONG1/LONG4), as a number when safe, else a bigint. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return normaliseInt(v);
}
