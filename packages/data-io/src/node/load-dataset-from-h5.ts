import { DataError } from '@openretina/contracts';
import type { NdArray } from '../ndarray.js';
import { getDataset, openHdf5, readDataset } from './hdf5.js';

/**
 * Reads one dataset of an HDF5 file (OpenRetina's `load_dataset_from_h5`), e.g. `/train/response/firing_rate_10ms`.
 * A missing dataset is a {@link DataError} naming the file and its top-level keys.
 */
export async function loadDatasetFromH5(path: string, datasetPath: string): Promise<NdArray> {
  const f = await openHdf5(path);
  try {
    const ds = getDataset(f, datasetPath);
    if (!ds) throw new DataError(`${path}: no dataset "${datasetPath}" (top-level keys: ${f.keys().join(', ')}).`);
    return readDataset(ds, `${path}/${datasetPath}`);
  } finally {
    f.close();
  }
}
