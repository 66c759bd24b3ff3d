import { type SyntheticDataOptions, generateSyntheticData } from '../synthetic.js';
import { writeHdf5Dataset } from './generic-hdf5.js';

/** What {@link createSyntheticDataset} wrote. */
export interface CreatedSyntheticDataset {
  dir: string;
  stimulusNames: string[];
  sessionNames: string[];
  neuronsPerSession: Record<string, number>;
}

/**
 * Writes OpenRetina `create-data`'s synthetic dataset in the generic HDF5 format: `stimuli/random_noise_{i}.npy`
 * `(C, T, H, W)` float32 and `session_{k}.hdf5` with `responses_random_noise_{i}` `(N, T)` and `session_info/celltypes`.
 * Deterministic by `seed`.
 */
export async function createSyntheticDataset(dir: string, options: SyntheticDataOptions = {}): Promise<CreatedSyntheticDataset> {
  const data = generateSyntheticData(options);
  await writeHdf5Dataset(dir, { stimuli: data.stimuli, sessions: data.sessions, extension: '.hdf5' });
  return {
    dir,
    stimulusNames: Object.keys(data.stimuli),
    sessionNames: Object.keys(data.sessions),
    neuronsPerSession: Object.fromEntries(Object.entries(data.sessions).map(([k, s]) => [k, Object.values(s.responses)[0]!.shape[1]])),
  };
}
