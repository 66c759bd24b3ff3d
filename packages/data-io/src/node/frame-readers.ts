import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FrameReader } from '@openretina/contracts';
import { FileFormatError, ShapeError, formatShape } from '@openretina/contracts';
import { decodeElements, parseNpyHeader, toFloat32 } from '@openretina/formats';
import type { NumericArray } from '@openretina/formats';
import type { ReadPool } from './read-pool.js';

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/*
 * Frame readers of the generic HDF5 format's lazy path: the `(C, T, H, W)` stimuli (`.npy` files read at byte
 * offsets, or `stimulus_<name>` datasets sliced by h5wasm) and the `(N, T)` responses (sliced by h5wasm), each
 * returned in the eager layout (`[T, H, W, C]` frames, normalised; `[T, N]` frames) with the same float32 values.
 */

/** Stimulus normalisation `(x − mean) / std` as the eager reader applies it (to the float32 values). */
export interface Normalisation {
  mean: number;
  std: number;
}

/** Writes `count` frames of `(C, count, H·W)` channel planes into `[count, H, W, C]` frames, normalised. */
function interleave(planes: Float32Array[], hw: number, count: number, dst: Float32Array, offset: number, norm: Normalisation): void {
  const c = planes.length;
  const identity = norm.mean === 0 && norm.std === 1;
  for (let ci = 0; ci < c; ci++) {
    const plane = planes[ci]!;
    for (let p = 0; p < count * hw; p++) {
      const v = plane[p]!;
      dst[offset + p * c + ci] = identity ? v : (v - norm.mean) / norm.std;
    }
  }
}

function readExactly(fd: number, bytes: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < bytes.length) {
    const n = readSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw new FileFormatError(`${path}: the file ended at byte ${position + done} while reading a clip (truncated?).`);
    done += n;
  }
}

/**
 * A `(C, T, H, W)` stimulus `.npy` file read a clip at a time (C reads at byte offsets per clip, through the pool's
 * file descriptor). The header and the file size are checked here, so a truncated file fails at load.
 */
export function npyMovieReader(
  pool: ReadPool,
  path: string,
  norm: Normalisation,
): { reader: FrameReader; shape: [number, number, number, number] } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new FileFormatError(`Cannot read .npy file ${path}.`, { cause: error });
  }
  let header: ReturnType<typeof parseNpyHeader>;
  let fileBytes: number;
  try {
    fileBytes = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(fileBytes, 1 << 16));
    readExactly(fd, head, 0, path);
    header = parseNpyHeader(head, path);
  } finally {
    closeSync(fd);
  }
  const { shape, type, dataOffset, littleEndian, dtype } = header;
  if (shape.length !== 4) throw new ShapeError(`${path}: expected a 4-D stimulus (C, T, H, W), got shape ${formatShape(shape)}.`);
  const [c, t, h, w] = shape as [number, number, number, number];
  const needed = c * t * h * w * type.bytes;
  if (fileBytes - dataOffset < needed) {
    throw new FileFormatError(
      `${path}: truncated .npy data: shape ${formatShape(shape)} of "${dtype}" needs ${needed} bytes, found ${fileBytes - dataOffset}.`,
    );
  }
  const hw = h * w;
  // float32 in the host's byte order is read straight into the planes; other dtypes are decoded, then rounded to
  // float32 as the eager reader does before normalising
  const direct = type.name === 'float32' && littleEndian === HOST_LITTLE_ENDIAN;
  let scratch = new Float32Array(0);
  let bytes = new Uint8Array(0);
  const reader: FrameReader = {
    frames: t,
    frameSize: hw * c,
    readFrames(start, count, dst, dstOffset) {
      if (count === 0) return;
      const n = count * hw;
      if (scratch.length < c * n) scratch = new Float32Array(c * n);
      if (!direct && bytes.length < n * type.bytes) bytes = new Uint8Array(n * type.bytes);
      const fd = pool.fd(path);
      const planes: Float32Array[] = [];
      for (let ci = 0; ci < c; ci++) {
        const plane = scratch.subarray(ci * n, (ci + 1) * n);
        const at = dataOffset + (ci * t + start) * hw * type.bytes;
        if (direct) readExactly(fd, new Uint8Array(plane.buffer, plane.byteOffset, n * 4), at, path);
        else {
          const b = bytes.subarray(0, n * type.bytes);
          readExactly(fd, b, at, path);
          plane.set(toFloat32(decodeElements(b, type, n, littleEndian) as NumericArray));
        }
        planes.push(plane);
      }
      interleave(planes, hw, count, dst, dstOffset, norm);
    },
  };
  return { reader, shape: [t, h, w, c] };
}

function sliceDataset(pool: ReadPool, path: string, name: string, ranges: [number, number][]): Float32Array {
  const where = `${path}/${name}`;
  const ds = pool.dataset(path, name);
  let value: unknown;
  try {
    value = ds.slice(ranges);
  } catch (error) {
    throw new FileFormatError(`${where}: cannot read frames [${ranges[1]![0]}, ${ranges[1]![1]}) (${String(error)}).`, { cause: error });
  }
  if (!ArrayBuffer.isView(value)) throw new FileFormatError(`${where}: frames [${ranges[1]![0]}, ${ranges[1]![1]}) are not numeric.`);
  return toFloat32(value as unknown as NumericArray);
}

/** The `(N, T)` responses dataset `name` of the session file `path`, read as `[T, N]` frames by h5wasm slices. */
export function h5ResponsesReader(pool: ReadPool, path: string, name: string, shape: readonly [number, number]): FrameReader {
  const [n, t] = shape;
  return {
    frames: t,
    frameSize: n,
    readFrames(start, count, dst, dstOffset) {
      if (count === 0) return;
      const nt = sliceDataset(pool, path, name, [
        [0, n],
        [start, start + count],
      ]);
      for (let j = 0; j < n; j++) for (let i = 0; i < count; i++) dst[dstOffset + i * n + j] = nt[j * count + i]!;
    },
  };
}

/** A session-specific `(C, T, H, W)` stimulus dataset, read as normalised `[T, H, W, C]` frames by h5wasm slices. */
export function h5MovieReader(
  pool: ReadPool,
  path: string,
  name: string,
  shape: readonly [number, number, number, number],
  norm: Normalisation,
): FrameReader {
  const [c, t, h, w] = shape;
  const hw = h * w;
  return {
    frames: t,
    frameSize: hw * c,
    readFrames(start, count, dst, dstOffset) {
      if (count === 0) return;
      const cthw = sliceDataset(pool, path, name, [
        [0, c],
        [start, start + count],
        [0, h],
        [0, w],
      ]);
      const planes = Array.from({ length: c }, (_, ci) => cthw.subarray(ci * count * hw, (ci + 1) * count * hw));
      interleave(planes, hw, count, dst, dstOffset, norm);
    },
  };
}

/** Readers one after the other along time (the concatenated train stimuli and their responses). */
export function concatFrameReaders(readers: readonly FrameReader[]): FrameReader {
  if (readers.length === 1) return readers[0]!;
  const frameSize = readers[0]!.frameSize;
  const starts: number[] = [];
  let frames = 0;
  for (const r of readers) {
    if (r.frameSize !== frameSize) throw new ShapeError(`Cannot concatenate frames of ${r.frameSize} and ${frameSize} values.`);
    starts.push(frames);
    frames += r.frames;
  }
  return {
    frames,
    frameSize,
    readFrames(start, count, dst, dstOffset) {
      let frame = start;
      let left = count;
      let out = dstOffset;
      for (let k = 0; k < readers.length && left > 0; k++) {
        const r = readers[k]!;
        const local = frame - starts[k]!;
        if (local >= r.frames) continue;
        const n = Math.min(left, r.frames - local);
        r.readFrames(local, n, dst, out);
        frame += n;
        left -= n;
        out += n * frameSize;
      }
      if (left > 0) throw new ShapeError(`Frames [${start}, ${start + count}) are outside ${frames} frames.`);
    },
  };
}

/** Frames per block when a reader is scanned whole at load. */
const SCAN_FRAMES = 2048;

/**
 * The first NaN of `(N, T)` responses read as `[T, N]` frames, in the eager reader's order (neuron, then frame),
 * scanned in blocks of frames; undefined when there is none.
 */
export function firstNaNOfResponses(reader: FrameReader): { neuron: number; frame: number } | undefined {
  const n = reader.frameSize;
  let best: { neuron: number; frame: number } | undefined;
  const block = new Float32Array(Math.min(SCAN_FRAMES, reader.frames) * n);
  for (let f0 = 0; f0 < reader.frames; f0 += SCAN_FRAMES) {
    const count = Math.min(SCAN_FRAMES, reader.frames - f0);
    reader.readFrames(f0, count, block, 0);
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < n; j++) {
        if (!Number.isNaN(block[i * n + j])) continue;
        if (best === undefined || j < best.neuron) best = { neuron: j, frame: f0 + i };
      }
    }
  }
  return best;
}
