import type { Movie } from '@openretina/contracts';
import { ConfigError, DataError, ShapeError, formatShape } from '@openretina/contracts';

// OpenRetina's helpers for the pre-rendered chirp and moving-bar stimuli of the Höfling recordings
// (`data_io/artificial_stimuli.py`): 8-bit frames `(T, H, W, C)` stored channels-last, shown at 30 Hz.

/** Frame rate of the artificial stimuli and of their trigger times (Hz). */
export const ARTIFICIAL_STIMULUS_FRAME_RATE = 30;

/** OpenRetina's `normalize_stimulus`: 8-bit intensities to `[-1, 1)`, `(x − 128) / 128` in float32. */
export function normalizeStimulus(data: ArrayLike<number>): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.fround(data[i]! - 128) / 128;
  return out;
}

/** OpenRetina's `discretize_triggers`: trigger times in seconds to frame indices, `trunc(t · frameRate)`. */
export function discretizeTriggers(triggerTimes: ArrayLike<number>, frameRate = ARTIFICIAL_STIMULUS_FRAME_RATE): number[] {
  return Array.from(triggerTimes, (t) => Math.trunc(t * frameRate));
}

/** Options of {@link alignStimulusToTrigger}. */
export interface AlignStimulusOptions {
  /** Told when a trigger comes before the previous presentation has ended (the presentation is appended anyway). */
  onWarning?: (message: string) => void;
}

/**
 * OpenRetina's `align_stimulus_to_trigger`: one copy of the stimulus per start frame, with dark (zero) frames before
 * each copy to fill the gap since the previous one ended. A start frame inside the previous copy adds no gap (OpenRetina
 * prints a warning; here `onWarning` hears it). Nothing is added after the last copy.
 */
export function alignStimulusToTrigger(stimulus: Movie, startTriggerTimes: readonly number[], options: AlignStimulusOptions = {}): Movie {
  if (startTriggerTimes.length === 0) throw new DataError('alignStimulusToTrigger: no trigger times.');
  const [t, h, w, c] = stimulus.shape;
  const fs = h * w * c;
  const pieces: { dark: number }[] = [];
  let current = 0;
  for (const trigger of startTriggerTimes) {
    let dark = 0;
    if (trigger > current) dark = trigger - current;
    else if (trigger < current) options.onWarning?.(`trigger ${trigger} comes before frame ${current}, where the previous stimulus ended`);
    pieces.push({ dark });
    current += dark + t;
  }
  const out = new Float32Array(current * fs);
  let frame = 0;
  for (const { dark } of pieces) {
    frame += dark; // zeros
    out.set(stimulus.data, frame * fs);
    frame += t;
  }
  return { data: out, shape: [current, h, w, c] };
}

/** Options of {@link prepareStimulus} (OpenRetina's `load_stimulus` arguments). */
export interface PrepareStimulusOptions {
  /** Map 8-bit values to `[-1, 1)` with {@link normalizeStimulus}. */
  normalize: boolean;
  /** Trigger times (s); when given, the stimulus is repeated at every `numTriggersPerRepetition`-th trigger. */
  triggerTimes?: ArrayLike<number> | null;
  /** Triggers per stimulus presentation (chirp 2, moving bar 8). */
  numTriggersPerRepetition: number;
  /** Keep every n-th frame (default 1; the 60 Hz 72×64 files use 2). */
  downsampleTFactor?: number;
  /** Told about triggers that come too early (see {@link alignStimulusToTrigger}). */
  onWarning?: (message: string) => void;
}

/**
 * OpenRetina's `load_stimulus` after reading the pickle: 8-bit frames `(T, H, W, C)` → float32, every
 * `downsampleTFactor`-th frame and the first two channels (the stimuli are achromatic), aligned to the trigger times
 * ({@link discretizeTriggers}, every `numTriggersPerRepetition`-th one, {@link alignStimulusToTrigger}), then
 * normalised. Returns a `Movie` `[T', H, W, min(C, 2)]`.
 */
export function prepareStimulus(frames: { data: ArrayLike<number>; shape: readonly number[] }, options: PrepareStimulusOptions): Movie {
  if (frames.shape.length !== 4) throw new ShapeError(`Expected stimulus frames (T, H, W, C), got shape ${formatShape(frames.shape)}.`);
  const step = options.downsampleTFactor ?? 1;
  const every = options.numTriggersPerRepetition;
  if (!Number.isInteger(step) || step < 1) throw new ConfigError(`downsampleTFactor must be a positive integer, got ${step}.`);
  if (!Number.isInteger(every) || every < 1) throw new ConfigError(`numTriggersPerRepetition must be a positive integer, got ${every}.`);
  const [t, h, w, c] = frames.shape as [number, number, number, number];
  if (frames.data.length !== t * h * w * c) {
    throw new ShapeError(`Stimulus frames ${formatShape(frames.shape)} need ${t * h * w * c} values, got ${frames.data.length}.`);
  }
  const keptC = Math.min(c, 2);
  const keptT = Math.ceil(t / step);
  const data = new Float32Array(keptT * h * w * keptC);
  for (let f = 0; f < keptT; f++) {
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < keptC; k++) data[(f * h * w + p) * keptC + k] = frames.data[(f * step * h * w + p) * c + k]!;
    }
  }
  let movie: Movie = { data, shape: [keptT, h, w, keptC] };
  if (options.triggerTimes) {
    const starts = discretizeTriggers(options.triggerTimes).filter((_, k) => k % every === 0);
    movie = alignStimulusToTrigger(movie, starts, options.onWarning ? { onWarning: options.onWarning } : {});
  }
  return options.normalize ? { data: normalizeStimulus(movie.data), shape: movie.shape } : movie;
}

/**
 * The moving bars without the dark frames around them (OpenRetina's `load_moving_bar`): 3 s before the first bar and
 * 1 s after the last one, at 30 Hz.
 */
export function trimMovingBar(movingBar: Movie): Movie {
  const before = 3 * ARTIFICIAL_STIMULUS_FRAME_RATE;
  const after = 1 * ARTIFICIAL_STIMULUS_FRAME_RATE;
  const [t, h, w, c] = movingBar.shape;
  if (t <= before + after) throw new DataError(`The moving-bar stimulus has ${t} frames, not more than the ${before + after} dark ones.`);
  const fs = h * w * c;
  return { data: movingBar.data.slice(before * fs, (t - after) * fs), shape: [t - before - after, h, w, c] };
}

/**
 * The bars of a moving-bar stimulus as separate movies, in presentation order (OpenRetina's `load_moving_bar_stack`
 * after loading; directions `MOVING_BAR_DIRECTIONS`). The frames must split evenly.
 */
export function movingBarStack(movingBar: Movie, numberOfMovingBars = 8): Movie[] {
  const [t, h, w, c] = movingBar.shape;
  if (!Number.isInteger(numberOfMovingBars) || numberOfMovingBars < 1)
    throw new ConfigError(`numberOfMovingBars must be a positive integer, got ${numberOfMovingBars}.`);
  if (t % numberOfMovingBars !== 0) {
    throw new DataError(`The moving bar has ${t} frames, which do not split into ${numberOfMovingBars} equal bars.`);
  }
  const per = t / numberOfMovingBars;
  const fs = h * w * c;
  return Array.from({ length: numberOfMovingBars }, (_, k) => ({
    data: movingBar.data.slice(k * per * fs, (k + 1) * per * fs),
    shape: [per, h, w, c] as [number, number, number, number],
  }));
}
