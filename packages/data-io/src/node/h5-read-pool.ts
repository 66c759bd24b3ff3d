import { FileFormatError } from '@openretina/contracts';
import type { H5File, loadH5wasm } from './hdf5.js';

/** Session files a lazy dataset keeps open at once: bounds file handles and HDF5's per-file caches. */
export const MAX_OPEN_H5_FILES = 16;

/**
 * The HDF5 files of a lazily read dataset, opened on first read and kept open (least recently used closed beyond
 * {@link MAX_OPEN_H5_FILES}), so that reading a clip does not reopen its file. Synchronous, as batches are.
 */
export class H5ReadPool {
  private readonly open = new Map<string, H5File>();

  constructor(private readonly h5: Awaited<ReturnType<typeof loadH5wasm>>) {}

  /** The open file at `path` (opened again after {@link close}). */
  file(path: string): H5File {
    let f = this.open.get(path);
    if (f) {
      // most recently used last
      this.open.delete(path);
      this.open.set(path, f);
      return f;
    }
    try {
      f = new this.h5.File(path, 'r');
    } catch (error) {
      throw new FileFormatError(`${path}: cannot open the HDF5 file to read a clip (${String(error)}).`, { cause: error });
    }
    this.open.set(path, f);
    if (this.open.size > MAX_OPEN_H5_FILES) {
      const [oldest, file] = this.open.entries().next().value as [string, H5File];
      this.open.delete(oldest);
      file.close();
    }
    return f;
  }

  /** Closes every open file; later reads open them again. */
  close(): void {
    for (const f of this.open.values()) f.close();
    this.open.clear();
  }
}
