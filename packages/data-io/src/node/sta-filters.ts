import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '@openretina/contracts';
import { parseNpy, toFloat32 } from '@openretina/formats';
import { alignSta, extractFiltersFromSta, type StaFilterSet } from '../sta/sta-filters.js';

/** Options of {@link loadStaAndExtractFilters} (OpenRetina's `load_sta_and_extract_filters` arguments). */
export interface LoadStaFilterOptions {
  /** Mirror the STA along its width first (default false). */
  flipSta?: boolean;
  /** `[H, W]` of the stimulus: the STA is cropped symmetrically to it (default: no crop). */
  targetShape?: readonly [number, number] | null;
  temporalCropFrames?: number | null;
  sigmaContour?: number;
}

/**
 * Reads the STA `staDir/fileName` (`.npy`, `[T, h, w]`), flips and crops it to the stimulus and derives the neuron's
 * spatial and temporal filters ({@link extractFiltersFromSta}). Synchronous: models build their filters in their
 * constructors, as OpenRetina's do.
 */
export function loadStaAndExtractFilters(staDir: string, fileName: string, options: LoadStaFilterOptions = {}): StaFilterSet {
  const path = join(staDir, fileName);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataError(`Cannot read the STA file ${path}.`, { cause: error });
  }
  const npy = parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  if (npy.shape.length !== 3) throw new DataError(`${path}: expected an STA of shape [T, H, W], got [${npy.shape.join(', ')}].`);
  const sta = alignSta(
    { data: toFloat32(npy.data), shape: npy.shape as [number, number, number] },
    { flipSta: options.flipSta ?? false, targetShape: options.targetShape ?? null },
  );
  return extractFiltersFromSta(sta, {
    temporalCropFrames: options.temporalCropFrames ?? null,
    ...(options.sigmaContour === undefined ? {} : { sigmaContour: options.sigmaContour }),
  });
}
