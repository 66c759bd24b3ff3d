import { readFile } from 'node:fs/promises';
import type { Movie } from '@openretina/contracts';
import { FileFormatError } from '@openretina/contracts';
import { movieFromCTHW, movieToCTHW } from '../layout.js';
import { type NpyArray, parseNpy, parseNpz, serializeNpy } from '@openretina/formats';
import { writeFileAtomic } from '@openretina/formats/node';

/** Reads an `.npy` file. */
export async function readNpyFile(path: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new FileFormatError(`Cannot read .npy file ${path}.`, { cause: error });
  }
  return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Reads an `.npz` file. */
export async function readNpzFile(path: string): Promise<Record<string, NpyArray>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new FileFormatError(`Cannot read .npz file ${path}.`, { cause: error });
  }
  return parseNpz(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Writes a float32 `.npy` file (format 1.0, `'<f4'`) atomically. */
export async function writeNpyFile(path: string, data: Float32Array, shape: readonly number[]): Promise<void> {
  await writeFileAtomic(path, serializeNpy(data, shape));
}

/** Reads an OpenRetina `(C, T, H, W)` stimulus `.npy` as a channels-last `Movie`. */
export async function readMovieNpy(path: string): Promise<Movie> {
  const arr = await readNpyFile(path);
  return movieFromCTHW(arr.data, arr.shape);
}

/** Writes a `Movie` as an OpenRetina `(C, T, H, W)` float32 `.npy`. */
export async function writeMovieNpy(path: string, movie: Movie): Promise<void> {
  const { data, shape } = movieToCTHW(movie);
  await writeNpyFile(path, data, shape);
}
