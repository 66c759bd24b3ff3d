import { ConfigError, ShapeError, formatShape } from '@openretina/contracts';
import { interp } from '../../interp.js';
import { linspace } from '../../linspace.js';
import { type NdArray, type NdTree, isNdArray, toNumberArray } from '../../ndarray.js';
import { HOEFLING_2024_UPSAMPLING, type HoeflingStimulus } from './constants.js';
import { type Field, fieldArray, fieldNeurons, maskField } from './fields.js';

/** Options of {@link upsampleTraces}. */
export interface UpsampleOptions {
  /** Seconds from a trigger to its last frame (movie: 4.9666667). */
  duration: number;
  /** Frames per trigger (movie: 150). */
  framesPerTrigger: number;
  /** Divide each neuron by its standard deviation (ddof 0; default true). */
  normByStd?: boolean;
}

/**
 * Höfling trigger upsampling (OpenRetina's `upsample_traces`): each trigger `t` becomes
 * `linspace(t, t + duration, framesPerTrigger)`; each trace is linearly interpolated at those times (`np.interp`) and
 * optionally divided by its std. Returns `(N, triggers · frames)` row-major.
 */
export function upsampleTraces(
  triggerTimes: ArrayLike<number>,
  traces: { data: ArrayLike<number>; shape: readonly number[] },
  traceTimes: { data: ArrayLike<number>; shape: readonly number[] },
  options: UpsampleOptions,
): { data: Float64Array; shape: [number, number] } {
  const [n, t] = traces.shape as [number, number];
  if (traceTimes.shape[0] !== n || traceTimes.shape[1] !== t) {
    throw new ShapeError(`Trace times ${formatShape(traceTimes.shape)} do not match traces ${formatShape(traces.shape)}.`);
  }
  const f = options.framesPerTrigger;
  const times = new Float64Array(triggerTimes.length * f);
  for (let k = 0; k < triggerTimes.length; k++) times.set(linspace(triggerTimes[k]!, triggerTimes[k]! + options.duration, f), k * f);
  const out = new Float64Array(n * times.length);
  const sliceOf = (a: ArrayLike<number>, i: number) => Array.prototype.slice.call(a, i * t, (i + 1) * t) as number[];
  for (let i = 0; i < n; i++) {
    const row = interp(times, sliceOf(traceTimes.data, i), sliceOf(traces.data, i));
    if (options.normByStd ?? true) {
      let mean = 0;
      for (const v of row) mean += v;
      mean /= row.length;
      let ss = 0;
      for (const v of row) ss += (v - mean) ** 2;
      const sd = Math.sqrt(ss / row.length);
      for (let j = 0; j < row.length; j++) row[j] = row[j]! / sd;
    }
    out.set(row, i * times.length);
  }
  return { data: out, shape: [n, times.length] };
}

/** Options of {@link upsampleHoeflingResponses}. */
export interface HoeflingUpsampleOptions {
  /** `spikes` (default; `<stimulus>_inferred_spikes`, else `<stimulus>_spikes`), `raw`, `preprocessed` or `detrended` (raw − smoothed). */
  traceType?: 'spikes' | 'raw' | 'preprocessed' | 'detrended';
  /** Divide each neuron by its std (default true). */
  normByStd?: boolean;
  /** Multiply the upsampled traces by this (default 1). */
  scaleTraces?: number;
  /** Keep neurons with `d_qi ≥ dQi` (combined with `chirpQi` by `qiLogic`); applied only when one threshold is > 0. */
  dQi?: number;
  chirpQi?: number;
  /** Default `'or'`. */
  qiLogic?: 'and' | 'or';
  /** Seconds per trigger (default {@link HOEFLING_2024_UPSAMPLING} of the stimulus; for small test data). */
  triggerDuration?: number;
  /** Frames per trigger (default {@link HOEFLING_2024_UPSAMPLING} of the stimulus). */
  framesPerTrigger?: number;
}

/** One field after {@link upsampleHoeflingResponses}. */
export interface HoeflingUpsampledField {
  /** The field's arrays and attributes (neurons masked when quality thresholds were given). */
  field: NdTree;
  /** OpenRetina's `responses_final`: `(N, T)` row-major, one value per 30 Hz stimulus frame. */
  responses: { data: Float64Array; shape: [number, number] };
  /** OpenRetina's stimulus id (natural 5, chirp 1, moving bar 2). */
  stimId: number;
}

/** The traces of one stimulus of a field, as OpenRetina picks them for a trace type. */
function fieldTraces(f: Field, stimulus: HoeflingStimulus, traceType: HoeflingUpsampleOptions['traceType'], name: string): NdArray {
  if (traceType === 'detrended') {
    const raw = fieldArray(f, `${stimulus}_raw_traces`, name);
    const smoothed = toNumberArray(fieldArray(f, `${stimulus}_smoothed_traces`, name).data);
    return { data: toNumberArray(raw.data).map((v, i) => v - smoothed[i]!), shape: raw.shape, dtype: raw.dtype };
  }
  if (traceType === 'spikes' || traceType === undefined) {
    const inferred = f[`${stimulus}_inferred_spikes`];
    return isNdArray(inferred) ? inferred : fieldArray(f, `${stimulus}_spikes`, name);
  }
  return fieldArray(f, `${stimulus}_${traceType}_traces`, name);
}

/** Sample times `(N, T)` of a field's traces: `<stimulus>_traces_times`, or `j · dt + t0` per neuron (newer exports). */
function fieldTraceTimes(
  f: Field,
  stimulus: HoeflingStimulus,
  n: number,
  t: number,
  name: string,
): { data: ArrayLike<number>; shape: number[] } {
  const explicit = f[`${stimulus}_traces_times`];
  if (isNdArray(explicit)) return { data: toNumberArray(explicit.data), shape: explicit.shape };
  const t0 = toNumberArray(fieldArray(f, `${stimulus}_traces_t0`, name).data);
  const dt = toNumberArray(fieldArray(f, `${stimulus}_traces_dt`, name).data);
  const d = new Float64Array(n * t);
  for (let i = 0; i < n; i++) for (let j = 0; j < t; j++) d[i * t + j] = j * dt[dt.length === 1 ? 0 : i]! + t0[t0.length === 1 ? 0 : i]!;
  return { data: d, shape: [n, t] };
}

/**
 * Upsamples every field's traces of one stimulus to one value per 30 Hz frame (OpenRetina's `upsample_all_responses`):
 * the stimulus's traces (see `traceType`) are interpolated at `linspace(t, t + duration, frames)` for every used
 * trigger `t` of the first row of `<stimulus>_trigger_times` ({@link HOEFLING_2024_UPSAMPLING}; the chirp uses every
 * second trigger), divided by their std and scaled. With `dQi` or `chirpQi` > 0 the neurons are then masked by the
 * quality indices and fields left without neurons are dropped.
 */
export function upsampleHoeflingResponses(
  fields: Readonly<Record<string, NdTree>>,
  stimulus: HoeflingStimulus,
  options: HoeflingUpsampleOptions = {},
): Record<string, HoeflingUpsampledField> {
  const plan = HOEFLING_2024_UPSAMPLING[stimulus];
  if (!plan) throw new ConfigError(`Unknown Höfling stimulus "${String(stimulus)}" (expected natural, chirp or mb).`);
  const scale = options.scaleTraces ?? 1;
  let out: Record<string, HoeflingUpsampledField> = {};
  for (const name of Object.keys(fields).sort()) {
    const f = fields[name] as Field;
    const traces = fieldTraces(f, stimulus, options.traceType, name);
    const [n, t] = traces.shape as [number, number];
    const trig = fieldArray(f, `${stimulus}_trigger_times`, name);
    const all = toNumberArray(trig.data).slice(0, trig.shape.length === 2 ? trig.shape[1] : trig.shape[0]);
    const triggers = all.filter((_, k) => k % plan.triggerStep === 0);
    const up = upsampleTraces(
      triggers,
      { data: toNumberArray(traces.data), shape: traces.shape },
      fieldTraceTimes(f, stimulus, n, t, name),
      {
        duration: options.triggerDuration ?? plan.duration,
        framesPerTrigger: options.framesPerTrigger ?? plan.framesPerTrigger,
        normByStd: options.normByStd ?? true,
      },
    );
    if (scale !== 1) for (let i = 0; i < up.data.length; i++) up.data[i] = up.data[i]! * scale;
    out[name] = { field: f as NdTree, responses: up, stimId: plan.stimId };
  }
  const dQi = options.dQi ?? 0;
  const chirpQi = options.chirpQi ?? 0;
  if (dQi > 0 || chirpQi > 0) out = maskByQualityIndices(out, dQi, chirpQi, options.qiLogic ?? 'or');
  return out;
}

function maskByQualityIndices(
  fields: Record<string, HoeflingUpsampledField>,
  dQi: number,
  chirpQi: number,
  logic: 'and' | 'or',
): Record<string, HoeflingUpsampledField> {
  const out: Record<string, HoeflingUpsampledField> = {};
  for (const [name, u] of Object.entries(fields)) {
    const f = u.field as Field;
    const d = toNumberArray(fieldArray(f, 'd_qi', name).data);
    const c = toNumberArray(fieldArray(f, 'chirp_qi', name).data);
    const mask = d.map((v, i) => (logic === 'and' ? v >= dQi && c[i]! >= chirpQi : v >= dQi || c[i]! >= chirpQi));
    const [n, t] = u.responses.shape;
    const masked = maskField({ ...f, responses_final: { data: u.responses.data, shape: [n, t], dtype: '<f8' } }, mask);
    const r = masked.responses_final as NdArray;
    delete masked.responses_final;
    if (fieldNeurons(masked) === 0) continue;
    out[name] = {
      field: masked as NdTree,
      responses: { data: Float64Array.from(r.data as ArrayLike<number>), shape: [r.shape[0]!, t] },
      stimId: u.stimId,
    };
  }
  return out;
}
