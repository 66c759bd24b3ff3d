// STA processing against OpenRetina's load_sta_and_extract_filters (fixtures/data-io/make_sta_processing_fixtures.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isOpenRetinaError } from '@openretina/contracts';
import { parseNpz } from '@openretina/formats';
import { alignSta, extractFiltersFromSta, fit2dGaussian, gaussian2dGrid, loadStaAndExtractFilters } from '../src/node.js';
import { FIXTURES } from './helpers.js';

const FX = `${FIXTURES}sta_processing/`;
interface Case {
  options: { flip_sta?: boolean; target_spatial_shape?: [number, number]; temporal_crop_frames?: number; sigma_contour?: number };
  gaussian: Record<string, number>;
  success: boolean;
}
const meta = JSON.parse(readFileSync(`${FX}expected.json`, 'utf8')) as { cases: Record<string, Case> };
const expected = parseNpz(new Uint8Array(readFileSync(`${FX}expected.npz`)));
const arr = (k: string) => expected[k]!.data as Float32Array;

/** Largest absolute difference. */
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - Number(b[i])));
  return m;
};

describe("STA processing (OpenRetina's utils/sta_processing)", () => {
  for (const [name, c] of Object.entries(meta.cases)) {
    it(`${name}: filters and fitted centre as load_sta_and_extract_filters`, () => {
      const got = loadStaAndExtractFilters(FX, `${name}.npy`, {
        flipSta: c.options.flip_sta ?? false,
        targetShape: c.options.target_spatial_shape ?? null,
        temporalCropFrames: c.options.temporal_crop_frames ?? null,
        ...(c.options.sigma_contour === undefined ? {} : { sigmaContour: c.options.sigma_contour }),
      });
      // scipy's trust-region solver and our Levenberg–Marquardt reach the same minimum, not the same last iterate
      expect(maxDiff(got.spatialFilter, arr(`${name}_spatial`))).toBeLessThan(1e-4);
      expect(maxDiff(got.temporalFilter, arr(`${name}_temporal`))).toBeLessThan(1e-6);
      expect(got.gaussian.success).toBe(c.success);
      expect(got.center.x).toBeCloseTo(c.gaussian.center_x!, 3);
      expect(got.center.y).toBeCloseTo(c.gaussian.center_y!, 3);
      expect(got.gaussian.amplitude).toBeCloseTo(c.gaussian.amplitude!, 3);
    });
  }

  it('recovers a noiseless Gaussian exactly', () => {
    const truth = { centerX: 4.3, centerY: 3.6, sigmaX: 1.7, sigmaY: 1.2, theta: 0.3, amplitude: -2 };
    const fit = fit2dGaussian(gaussian2dGrid(9, 10, truth), 9, 10);
    expect(fit.success).toBe(true);
    expect(fit.centerX).toBeCloseTo(truth.centerX, 6);
    expect(fit.centerY).toBeCloseTo(truth.centerY, 6);
    expect(fit.amplitude).toBeCloseTo(truth.amplitude, 6);
    const spatial = extractFiltersFromSta({ data: gaussian2dGrid(9, 10, truth), shape: [1, 9, 10] }).spatialFilter;
    expect(Math.min(...spatial)).toBeGreaterThanOrEqual(0); // an OFF cell's filter is made positive
  });

  it('flips along the width before cropping symmetrically', () => {
    const sta = { data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i), shape: [2, 3, 4] as [number, number, number] };
    const out = alignSta(sta, { flipSta: true, targetShape: [1, 2] });
    expect(out.shape).toEqual([2, 1, 2]);
    expect(Array.from(out.data)).toEqual([6, 5, 18, 17]);
  });

  it('refuses an STA smaller than the stimulus and a missing file with a DataError', () => {
    const sta = { data: new Float32Array(8), shape: [2, 2, 2] as [number, number, number] };
    expect(() => alignSta(sta, { targetShape: [3, 2] })).toThrow(/smaller than the stimulus/);
    let error: unknown;
    try {
      loadStaAndExtractFilters(FX, 'no_such_cell.npy');
    } catch (e) {
      error = e;
    }
    expect(isOpenRetinaError(error, 'OPENRETINA_DATA')).toBe(true);
  });
});
