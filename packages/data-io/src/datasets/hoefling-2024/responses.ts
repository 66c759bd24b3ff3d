import type { ResponseSplit, Responses, TrialResponses } from '@openretina/contracts';
import { ConfigError, DataError } from '@openretina/contracts';
import { createResponseSplit } from '../../containers.js';
import { type NdTree, isNdArray, toNumberArray } from '../../ndarray.js';
import { HOEFLING_2024 } from './constants.js';
import { type Field, fieldScalar } from './fields.js';
import { filterHoeflingResponses, type HoeflingQualityChecks } from './quality-checks.js';
import { upsampleHoeflingResponses } from './upsampling.js';

/** Options of {@link hoeflingResponsesFromFields}. */
export interface HoeflingResponseOptions {
  /** `spikes` (default; `natural_inferred_spikes` or `natural_spikes`), `raw`, `preprocessed` or `detrended`. */
  traceType?: 'spikes' | 'raw' | 'preprocessed' | 'detrended';
  normByStd?: boolean;
  scaleTraces?: number;
  /** Quality checks (default Höfling 2024's); `false` skips filtering. */
  qualityChecks?: Partial<HoeflingQualityChecks> | false;
  numClips?: number;
  clipLength?: number;
  triggerDuration?: number;
}

/**
 * Natural-movie responses per field (OpenRetina's `filter_responses` + `make_final_responses(response_type="natural")`):
 * quality filter, trigger upsampling to one value per frame, std normalisation, then the test responses = the mean of
 * the three repeats of the 5 test clips (clip positions [0, 5), [5 + k, 10 + k), [10 + 2k, 15 + 2k) with
 * k = numClips / 2) and train = the remaining clips in presentation order. By-trial test responses are `[3, T, N]`.
 * Session kwargs: `eye`, `scan_sequence_idx` (one-element arrays), `group_assignment`, `roi_ids`.
 */
export function hoeflingResponsesFromFields(
  all: Readonly<Record<string, NdTree>>,
  options: HoeflingResponseOptions = {},
): Record<string, ResponseSplit> {
  const fields = options.qualityChecks === false ? { ...all } : filterHoeflingResponses(all, options.qualityChecks ?? {});
  const clip = options.clipLength ?? HOEFLING_2024.clipLength;
  const numClips = options.numClips ?? HOEFLING_2024.numClips;
  const half = numClips / 2;
  if (!Number.isInteger(half)) throw new ConfigError(`numClips must be even, got ${numClips}.`);
  const upsampled = upsampleHoeflingResponses(fields, 'natural', {
    ...(options.traceType ? { traceType: options.traceType } : {}),
    normByStd: options.normByStd ?? true,
    scaleTraces: options.scaleTraces ?? 1,
    triggerDuration: options.triggerDuration ?? HOEFLING_2024.movieTriggerDuration,
    framesPerTrigger: clip,
  });
  const out: Record<string, ResponseSplit> = {};
  for (const name of Object.keys(upsampled).sort()) {
    const { field, responses: up } = upsampled[name]!;
    const f = field as Field;
    const [n, total] = up.shape;
    if (total !== (15 + numClips) * clip) {
      throw new DataError(
        `${name}: ${total / clip} triggers give ${total} frames; expected ${(15 + numClips) * clip} (5 test clips × 3 repeats + ${numClips} train clips of ${clip} frames).`,
      );
    }
    const frame = (i: number, j: number) => up.data[i * total + j]!;
    const testLen = 5 * clip;
    const repStarts = [0, (5 + half) * clip, (10 + numClips) * clip];
    const trainRanges: [number, number][] = [
      [5 * clip, (5 + half) * clip],
      [(10 + half) * clip, (10 + numClips) * clip],
    ];
    const byTrial = new Float32Array(3 * testLen * n);
    const test = new Float32Array(testLen * n);
    for (let r = 0; r < 3; r++) {
      for (let j = 0; j < testLen; j++) {
        for (let i = 0; i < n; i++) {
          const v = frame(i, repStarts[r]! + j);
          byTrial[(r * testLen + j) * n + i] = v;
          test[j * n + i] = test[j * n + i]! + v / 3;
        }
      }
    }
    const trainT = numClips * clip;
    const train = new Float32Array(trainT * n);
    let row = 0;
    for (const [a, b] of trainRanges) for (let j = a; j < b; j++, row++) for (let i = 0; i < n; i++) train[row * n + i] = frame(i, j);
    const kw: Record<string, unknown[]> = {
      eye: [String(fieldScalar(f.eye) ?? 'right')],
      scan_sequence_idx: [Number(fieldScalar(f.scan_sequence_idx) ?? 0)],
    };
    if (isNdArray(f.group_assignment)) kw.group_assignment = toNumberArray(f.group_assignment.data);
    if (isNdArray(f.roi_ids)) kw.roi_ids = toNumberArray(f.roi_ids.data);
    const testByTrial: TrialResponses = { data: byTrial, shape: [3, testLen, n] };
    out[name] = createResponseSplit({
      train: { data: train, shape: [trainT, n] } satisfies Responses,
      test: { data: test, shape: [testLen, n] },
      testByTrial,
      stimId: 'natural',
      sessionKwargs: kw,
    });
  }
  return out;
}
