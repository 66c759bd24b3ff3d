import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FrameReader } from '@openretina/contracts';
import { FileFormatError, ShapeError, formatShape } from '@openretina/contracts';
import { decodeElements, parseNpyHeader, toFloat32 } from '@openretina/formats';
import type { NumericArray } from '@openretina/formats';
import { getDataset } from './hdf5.js';
import type { H5ReadPool } from './h5-read-pool.js';

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

/** A `(C, T, H, W)` stimulus `.npy` file read a clip at a time (C reads at byte offsets per clip). */
export function npyMovieReader(path: string, norm: Normalisation): { reader: FrameReader; shape: [number, number, number, number] } {
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
  const reader: FrameReader = {
    frames: t,
    frameSize: hw * c,
    readFrames(start, count, dst, dstOffset) {
      if (count === 0) return;
      const bytes = new Uint8Array(count * hw * type.bytes);
      const planes: Float32Array[] = [];
      const f = openSync(path, 'r');
      try {
        for (let ci = 0; ci < c; ci++) {
          readExactly(f, bytes, dataOffset + (ci * t + start) * hw * type.bytes, path);
          // the eager reader converts to float32 before normalising: the same rounding here
          planes.push(Float32Array.from(toFloat32(decodeElements(bytes, type, count * hw, littleEndian) as NumericArray)));
        }
      } finally {
        closeSync(f);
      }
      interleave(planes, hw, count, dst, dstOffset, norm);
    },
  };
  return { reader, shape: [t, h, w, c] };
}

function sliceDataset(pool: H5ReadPool, path: string, name: string, ranges: [number, number][]): Float32Array {
  const where = `${path}/${name}`;
  const ds = getDataset(pool.file(path), name);
  if (!ds) throw new FileFormatError(`${where} is no longer a dataset.`);
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
export function h5ResponsesReader(pool: H5ReadPool, path: string, name: string, shape: readonly [number, number]): FrameReader {
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
  pool: H5ReadPool,
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
