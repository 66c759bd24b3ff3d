import { open, stat } from 'node:fs/promises';
import { FileFormatError } from '@openretina/contracts';
import type { NdArray, NdTree } from '../ndarray.js';

type H5Module = typeof import('h5wasm/node');
/** An open HDF5 group, dataset and file of h5wasm (internal: never part of the public API). */
export type H5Group = InstanceType<H5Module['Group']>;
export type H5Dataset = InstanceType<H5Module['Dataset']>;
export type H5File = InstanceType<H5Module['File']>;

let h5Promise: Promise<H5Module> | undefined;

/** Loads and initialises h5wasm (Node build, host filesystem) once. */
export async function loadH5wasm(): Promise<H5Module> {
  h5Promise ??= import('h5wasm/node').then(async (m) => {
    const lib = ((m as unknown as { default?: H5Module }).default ?? m) as H5Module;
    await lib.ready;
    return lib;
  });
  return h5Promise;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function readUint(buf: Buffer, offset: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + buf[offset + i]!;
  return v;
}

/**
 * Checks that `path` is an HDF5 file and not truncated (signature at 0, 512, 1024, … and the end-of-file address of the
 * superblock within the file size), so that a bad file gives a clear {@link FileFormatError} instead of HDF5's
 * diagnostics.
 */
export async function checkHdf5File(path: string): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new FileFormatError(`HDF5 file not found: ${path}.`, { cause: error });
  }
  const fh = await open(path, 'r');
  try {
    for (let base = 0; base === 0 || base + 8 <= size; base = base === 0 ? 512 : base * 2) {
      const head = Buffer.alloc(64);
      const { bytesRead } = await fh.read(head, 0, 64, base);
      if (bytesRead < 8) break;
      if (!SIGNATURE.every((b, i) => head[i] === b)) continue;
      const version = head[8]!;
      let sizeOfOffsets: number;
      let eofOffset: number;
      if (version === 0 || version === 1) {
        sizeOfOffsets = head[13]!;
        eofOffset = (version === 0 ? 24 : 28) + 2 * sizeOfOffsets;
      } else if (version === 2 || version === 3) {
        sizeOfOffsets = head[9]!;
        eofOffset = 12 + 2 * sizeOfOffsets;
      } else {
        return; // unknown superblock version: let the library decide
      }
      if (![2, 4, 8].includes(sizeOfOffsets) || bytesRead < eofOffset + sizeOfOffsets) {
        throw new FileFormatError(`${path}: corrupt HDF5 superblock.`);
      }
      // The end-of-file address counts from the start of the file (h5py files with a user block store the full size).
      const eof = readUint(head, eofOffset, sizeOfOffsets);
      if (eof > size) {
        throw new FileFormatError(`${path}: truncated HDF5 file: the superblock says ${eof} bytes, the file has ${size}.`, {
          details: { path, expectedBytes: eof, actualBytes: size },
        });
      }
      return;
    }
  } finally {
    await fh.close();
  }
  throw new FileFormatError(`${path}: not an HDF5 file (no HDF5 signature found).`);
}

/** Opens an HDF5 file for reading after {@link checkHdf5File}; errors become {@link FileFormatError}s naming the path. */
export async function openHdf5(path: string): Promise<H5File> {
  await checkHdf5File(path);
  const h5 = await loadH5wasm();
  try {
    return new h5.File(path, 'r');
  } catch (error) {
    throw new FileFormatError(`${path}: cannot open the HDF5 file (${String(error)}).`, { cause: error });
  }
}

/** Reads a dataset into an {@link NdArray}; errors name the file and the dataset. */
export function readDataset(ds: H5Dataset, where: string): NdArray {
  let value: unknown;
  try {
    value = ds.value;
  } catch (error) {
    throw new FileFormatError(`${where}: cannot read the dataset (${String(error)}).`, { cause: error });
  }
  const shape = ds.shape ?? [];
  const dtype = typeof ds.dtype === 'string' ? ds.dtype : JSON.stringify(ds.dtype);
  if (ArrayBuffer.isView(value)) return { data: value as unknown as NdArray['data'], shape, dtype };
  if (Array.isArray(value)) return { data: value, shape, dtype };
  return { data: [value], shape, dtype };
}

/** Returns the object at `path` if it is a dataset. */
export function getDataset(group: H5Group, path: string): H5Dataset | undefined {
  const obj = group.get(path);
  return obj !== null && (obj as { type?: string }).type === 'Dataset' ? (obj as H5Dataset) : undefined;
}

function groupToTree(group: H5Group, where: string): NdTree {
  const out: NdTree = {};
  for (const key of group.keys()) {
    const obj = group.get(key) as { type?: string } | null;
    if (obj === null) continue;
    if (obj.type === 'Group') out[key] = groupToTree(obj as H5Group, `${where}/${key}`);
    else if (obj.type === 'Dataset') out[key] = readDataset(obj as H5Dataset, `${where}/${key}`);
  }
  for (const [name, attr] of Object.entries(group.attrs)) {
    let v: unknown;
    try {
      v = attr.value;
    } catch {
      continue;
    }
    out[name] = typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

/**
 * Reads a whole HDF5 file into nested records (OpenRetina's `load_h5_into_dict`): groups become records, datasets
 * {@link NdArray}s, and group attributes are merged into the same record as keys.
 */
export async function loadH5IntoDict(path: string): Promise<NdTree> {
  const f = await openHdf5(path);
  try {
    return groupToTree(f as unknown as H5Group, path);
  } finally {
    f.close();
  }
}
