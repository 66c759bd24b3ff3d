import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFormatError } from '@openretina/contracts';
import { parseNpy, toFloat32 } from '@openretina/formats';
import type { NoiseFrames, NoiseTrialSource } from '../../../datasets/sridhar-2025/noise-dataset.js';

function readNpySync(path: string): NoiseFrames {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new FileFormatError(`Cannot read ${path}.`, { cause: error });
  }
  const a = parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  const big = a.data instanceof BigInt64Array || a.data instanceof BigUint64Array;
  return { data: big ? toFloat32(a.data) : (a.data as ArrayLike<number>), shape: a.shape };
}

/**
 * White-noise frames on disk (OpenRetina's layout): `<trainDir>/<prefix>_XXX/all_images.npy` per trial (XXX = the
 * zero-padded trial index) and `<testDir>/all_images.npy`, each `(h, w, n)`. Files are read synchronously when a
 * dataset asks for them (so that batches can be built in a plain iterator).
 */
export function npyNoiseTrialSource(trainDir: string, testDir: string, trialPrefix = 'trial'): NoiseTrialSource {
  return {
    trial: (i) => readNpySync(join(trainDir, `${trialPrefix}_${String(i).padStart(3, '0')}`, 'all_images.npy')),
    test: () => readNpySync(join(testDir, 'all_images.npy')),
  };
}
