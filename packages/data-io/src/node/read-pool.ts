import { closeSync, openSync } from 'node:fs';
import { FileFormatError } from '@openretina/contracts';
import { getDataset, type H5Dataset, type H5File, type loadH5wasm } from './hdf5.js';

/**
 * Files a lazy dataset keeps open at once: bounds file handles and HDF5's per-file caches (about 0.7 MB per open
 * session file). Training draws each batch from another session, so this must exceed the number of session files
 * plus stimulus files: with fewer, every batch reopens a file (~4 ms per HDF5 open).
 */
export const MAX_OPEN_FILES = 128;

type Open = { kind: 'h5'; file: H5File; datasets: Map<string, H5Dataset> } | { kind: 'fd'; fd: number };

/**
 * The files of a lazily read dataset (session HDF5 files, stimulus `.npy` files), opened on first read and kept open
 * (the least recently used closed beyond {@link MAX_OPEN_FILES}), so that reading a clip does not reopen its file.
 * Synchronous, as batches are.
 */
export class ReadPool {
  private readonly open = new Map<string, Open>();

  constructor(private readonly h5: Awaited<ReturnType<typeof loadH5wasm>>) {}

  private get(path: string, make: () => Open): Open {
    let o = this.open.get(path);
    if (o) {
      // most recently used last
      this.open.delete(path);
      this.open.set(path, o);
      return o;
    }
    o = make();
    this.open.set(path, o);
    if (this.open.size > MAX_OPEN_FILES) {
      const [oldest, old] = this.open.entries().next().value as [string, Open];
      this.open.delete(oldest);
      release(old);
    }
    return o;
  }

  /** The dataset `name` of the HDF5 file at `path` (file and dataset handles kept between reads). */
  dataset(path: string, name: string): H5Dataset {
    const o = this.get(path, () => {
      try {
        return { kind: 'h5', file: new this.h5.File(path, 'r'), datasets: new Map() };
      } catch (error) {
        throw new FileFormatError(`${path}: cannot open the HDF5 file to read a clip (${String(error)}).`, { cause: error });
      }
    });
    if (o.kind !== 'h5') throw new FileFormatError(`${path} is not an HDF5 file.`);
    let ds = o.datasets.get(name);
    if (!ds) {
      ds = getDataset(o.file, name);
      if (!ds) throw new FileFormatError(`${path}/${name} is no longer a dataset.`);
      // h5wasm's slice() asks the library for the dataset's metadata on every call; it does not change while the
      // file is open read-only, so the first answer is kept on the instance (a third of a slice's cost)
      Object.defineProperty(ds, 'metadata', { value: ds.metadata });
      o.datasets.set(name, ds);
    }
    return ds;
  }

  /** A file descriptor of `path`, opened for reading. */
  fd(path: string): number {
    const o = this.get(path, () => {
      try {
        return { kind: 'fd', fd: openSync(path, 'r') };
      } catch (error) {
        throw new FileFormatError(`Cannot read ${path} to read a clip.`, { cause: error });
      }
    });
    if (o.kind !== 'fd') throw new FileFormatError(`${path} is open as an HDF5 file.`);
    return o.fd;
  }

  /** Closes every open file; later reads open them again. */
  close(): void {
    for (const o of this.open.values()) release(o);
    this.open.clear();
  }
}

function release(o: Open): void {
  if (o.kind === 'h5') o.file.close();
  else closeSync(o.fd);
}
