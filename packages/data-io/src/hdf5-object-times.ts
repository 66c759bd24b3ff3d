/*
 * HDF5 files keep the access, modification, change and birth times of every object in its header, so two files
 * written from the same data differ in bytes. h5wasm (0.10) offers no way to switch that off (HDF5's
 * H5Pset_obj_track_times is not exposed), so the times are set to zero after writing: h5wasm writes version-2 object
 * headers ("OHDR", HDF5 spec section IV.A.1.b), whose flags say whether the four 32-bit times follow the flags byte,
 * and whose first chunk ends with a Jenkins lookup3 checksum, recomputed here.
 */

const SIGNATURE = [0x4f, 0x48, 0x44, 0x52]; // "OHDR"
/** Flag bit: the header stores the four times. */
const TIMES_STORED = 0x20;
/** Flag bit: the header stores the attribute phase-change values (two 16-bit numbers). */
const PHASE_CHANGE_STORED = 0x10;

function rot(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const A = 0;
const B = 1;
const C = 2;
/** lookup3's mix: rounds of `x -= z; x ^= rot(z, r); z += y` as [x, z, y, r]. */
const MIX = [
  [A, C, B, 4],
  [B, A, C, 6],
  [C, B, A, 8],
  [A, C, B, 16],
  [B, A, C, 19],
  [C, B, A, 4],
] as const;
/** lookup3's final: rounds of `x ^= z; x -= rot(z, r)` as [x, z, r]. */
const FINAL = [
  [C, B, 14],
  [A, C, 11],
  [B, A, 25],
  [C, B, 16],
  [A, C, 4],
  [B, A, 14],
  [C, B, 24],
] as const;

/** Bob Jenkins' lookup3 `hashlittle` (HDF5's metadata checksum), initial value 0. */
export function lookup3(bytes: Uint8Array): number {
  const s = new Uint32Array(3).fill(0xdeadbeef + bytes.length); // a, b, c (arithmetic modulo 2^32)
  /** Adds the (up to) 12 little-endian bytes from `at` to a, b, c. */
  const add = (at: number) => {
    for (let j = 0; j < 12 && at + j < bytes.length; j++) s[j >> 2]! += bytes[at + j]! * 2 ** (8 * (j & 3));
  };
  let at = 0;
  for (; bytes.length - at > 12; at += 12) {
    add(at);
    for (const [x, z, y, r] of MIX) {
      s[x]! -= s[z]!;
      s[x]! ^= rot(s[z]!, r);
      s[z]! += s[y]!;
    }
  }
  if (bytes.length === at) return s[C]!; // nothing left (only for empty input)
  add(at);
  for (const [x, z, r] of FINAL) {
    s[x]! ^= s[z]!;
    s[x]! -= rot(s[z]!, r);
  }
  return s[C]!;
}

function readUint(bytes: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let j = 0; j < n; j++) v += bytes[at + j]! * 2 ** (8 * j);
  return v;
}

function writeUint32(bytes: Uint8Array, at: number, v: number): void {
  for (let j = 0; j < 4; j++) bytes[at + j] = (v >>> (8 * j)) & 0xff;
}

/**
 * Sets the object times of every version-2 object header in an HDF5 file image to zero (in place) and fixes the
 * headers' checksums; returns how many headers it changed. A byte run that looks like a header but whose checksum
 * does not hold (e.g. "OHDR" inside data) is left alone.
 */
export function zeroHdf5ObjectTimes(bytes: Uint8Array): number {
  let changed = 0;
  for (let at = bytes.indexOf(SIGNATURE[0]!); at >= 0 && at + 6 <= bytes.length; at = bytes.indexOf(SIGNATURE[0]!, at + 1)) {
    if (bytes[at + 1] !== SIGNATURE[1] || bytes[at + 2] !== SIGNATURE[2] || bytes[at + 3] !== SIGNATURE[3] || bytes[at + 4] !== 2) continue;
    const flags = bytes[at + 5]!;
    if ((flags & TIMES_STORED) === 0) continue;
    const sizeAt = at + 6 + 16 + (flags & PHASE_CHANGE_STORED ? 4 : 0);
    const sizeBytes = 1 << (flags & 0x03);
    if (sizeAt + sizeBytes > bytes.length) continue;
    const end = sizeAt + sizeBytes + readUint(bytes, sizeAt, sizeBytes); // where the checksum is
    if (end + 4 > bytes.length || lookup3(bytes.subarray(at, end)) !== readUint(bytes, end, 4)) continue;
    bytes.fill(0, at + 6, at + 6 + 16);
    writeUint32(bytes, end, lookup3(bytes.subarray(at, end)));
    changed++;
  }
  return changed;
}
