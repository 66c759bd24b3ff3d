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

/** Bob Jenkins' lookup3 `hashlittle` (HDF5's metadata checksum), initial value 0. */
export function lookup3(bytes: Uint8Array): number {
  let a = (0xdeadbeef + bytes.length) >>> 0;
  let b = a;
  let c = a;
  let i = 0;
  let left = bytes.length;
  const word = (at: number, n: number) => {
    let w = 0;
    for (let j = 0; j < n; j++) w += bytes[at + j]! * 2 ** (8 * j);
    return w;
  };
  while (left > 12) {
    a = (a + word(i, 4)) >>> 0;
    b = (b + word(i + 4, 4)) >>> 0;
    c = (c + word(i + 8, 4)) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 4)) >>> 0;
    b = (b + a) >>> 0;
    i += 12;
    left -= 12;
  }
  if (left === 0) return c;
  a = (a + word(i, Math.min(left, 4))) >>> 0;
  if (left > 4) b = (b + word(i + 4, Math.min(left - 4, 4))) >>> 0;
  if (left > 8) c = (c + word(i + 8, left - 8)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rot(b, 24)) >>> 0;
  return c;
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
