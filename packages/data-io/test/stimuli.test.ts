import { describe, expect, it } from 'vitest';
import {
  chirpStimulus,
  coloredStimulus,
  concatMovies,
  driftingGrating,
  MOVING_BAR_DIRECTIONS,
  movingBarStimulus,
  movingBarSweepFrames,
  whiteNoise,
} from '../src/index.js';

const at = (m: { data: Float32Array; shape: readonly number[] }, t: number, y: number, x: number, c: number) =>
  m.data[((t * m.shape[1]! + y) * m.shape[2]! + x) * m.shape[3]! + c]!;

describe('artificial stimuli', () => {
  it('chirp: 33 s full field with step, frequency and amplitude chirps at any rate and size', () => {
    const m = chirpStimulus({ channels: 2, height: 3, width: 2, frameRate: 30 });
    expect(m.shape).toEqual([990, 3, 2, 2]);
    expect(at(m, 0, 0, 0, 0)).toBe(-1);
    expect(at(m, 2 * 30 + 5, 2, 1, 1)).toBe(1); // during the ON step
    expect(at(m, 5 * 30 + 5, 0, 0, 0)).toBe(-1); // OFF
    expect(at(m, 8 * 30 + 5, 0, 0, 0)).toBe(0); // grey
    // amplitude chirp grows: max |value| in the last second > in the first second
    const amp = (s0: number) => Math.max(...Array.from({ length: 30 }, (_, i) => Math.abs(at(m, (21 + s0) * 30 + i, 0, 0, 0))));
    expect(amp(7)).toBeGreaterThan(0.8);
    expect(amp(0)).toBeLessThan(0.2);
    const m2 = chirpStimulus({ channels: 1, height: 1, width: 1, frameRate: 60, channelGains: [0.5] });
    expect(m2.shape).toEqual([1980, 1, 1, 1]);
    expect(at(m2, 2 * 60 + 1, 0, 0, 0)).toBe(0.5);
  });

  it('moving bar: 8 directions, the bar moves with the given speed and width', () => {
    const opts = { channels: 1, height: 9, width: 9, frameRate: 10, speed: 10, barWidth: 1 };
    const sweep = movingBarSweepFrames(opts);
    expect(sweep).toBe(Math.ceil(Math.hypot(9, 9) + 1) + 1);
    const m = movingBarStimulus(opts);
    expect(m.shape).toEqual([8 * sweep, 9, 9, 1]);
    expect(MOVING_BAR_DIRECTIONS).toEqual([0, 180, 45, 225, 90, 270, 135, 315]);
    // direction 0 (rightwards): the bar is a vertical line whose column increases over time
    const columnOf = (t: number) => {
      for (let x = 0; x < 9; x++) if (at(m, t, 4, x, 0) === 1) return x;
      return -1;
    };
    const cols = Array.from({ length: sweep }, (_, t) => columnOf(t)).filter((c) => c >= 0);
    expect(cols.length).toBeGreaterThan(5);
    for (let i = 1; i < cols.length; i++) expect(cols[i]! - cols[i - 1]!).toBe(1);
    const t0 = Array.from({ length: sweep }, (_, t) => t).find((t) => columnOf(t) >= 0)!;
    for (let y = 0; y < 9; y++) expect(at(m, t0 + 2, y, columnOf(t0 + 2), 0)).toBe(1); // a full vertical bar
    // direction 180 (second sweep) moves leftwards
    const colsLeft = Array.from({ length: sweep }, (_, t) => columnOf(sweep + t)).filter((c) => c >= 0);
    expect(colsLeft[0]!).toBeGreaterThan(colsLeft.at(-1)!);
    // first and last frame of each sweep show only background
    expect(m.data.subarray(0, 81).every((v) => v === -1)).toBe(true);
    const wide = movingBarStimulus({ ...opts, directions: [90], barWidth: 3 });
    const rowsLit = Array.from({ length: 9 }, (_, y) => at(wide, 8, y, 4, 0) === 1).filter(Boolean).length;
    expect(rowsLit).toBe(3);
  });

  it('drifting grating: spatial period, temporal frequency and direction', () => {
    const m = driftingGrating({ channels: 2, height: 4, width: 16, frameRate: 20, duration: 1, spatialPeriod: 8, temporalFrequency: 2 });
    expect(m.shape).toEqual([20, 4, 16, 2]);
    for (let x = 0; x < 8; x++) expect(at(m, 0, 0, x, 0)).toBeCloseTo(at(m, 0, 0, x + 8, 0), 5);
    // one temporal period = 10 frames
    expect(at(m, 0, 1, 3, 1)).toBeCloseTo(at(m, 10, 1, 3, 1), 5);
    expect(at(m, 0, 1, 3, 1)).not.toBeCloseTo(at(m, 5, 1, 3, 1), 3);
    // rightwards drift: the pattern at x moves to x + period·f/fps = x + 0.8 px per frame; 5 frames → 4 px
    expect(at(m, 5, 0, 6, 0)).toBeCloseTo(at(m, 0, 0, 2, 0), 5);
    const up = driftingGrating({ channels: 1, height: 8, width: 3, duration: 0.1, direction: 90, waveform: 'square' });
    expect(new Set(Array.from(up.data)).size).toBe(2);
    expect(at(up, 0, 0, 0, 0)).toBe(at(up, 0, 0, 2, 0)); // constant along x
  });

  it('white noise: binary and Gaussian, checks, seed', () => {
    const b = whiteNoise({ channels: 2, height: 4, width: 6, frames: 50, checkSize: 2, seed: 1 });
    expect(b.shape).toEqual([50, 4, 6, 2]);
    expect(new Set(Array.from(b.data))).toEqual(new Set([-1, 1]));
    expect(at(b, 3, 0, 0, 1)).toBe(at(b, 3, 1, 1, 1)); // same 2×2 check
    expect(Array.from(whiteNoise({ frames: 5, seed: 1 }).data)).toEqual(Array.from(whiteNoise({ frames: 5, seed: 1 }).data));
    expect(Array.from(whiteNoise({ frames: 5, seed: 1 }).data)).not.toEqual(Array.from(whiteNoise({ frames: 5, seed: 2 }).data));
    const g = whiteNoise({ channels: 1, height: 10, width: 10, frames: 100, distribution: 'gaussian', seed: 3 });
    const mean = g.data.reduce((a, v) => a + v, 0) / g.data.length;
    const sd = Math.sqrt(g.data.reduce((a, v) => a + (v - mean) ** 2, 0) / g.data.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
    const held = whiteNoise({ channels: 1, height: 2, width: 2, frames: 4, holdFrames: 2 });
    expect(Array.from(held.data.subarray(0, 4))).toEqual(Array.from(held.data.subarray(4, 8)));
  });

  it('colored stimulus: a full-field step in one channel with padding', () => {
    const m = coloredStimulus(1, 3, 4, 5, { padFront: 2, padEnd: 1, numColorChannels: 3 });
    expect(m.shape).toEqual([6, 4, 5, 3]);
    expect(at(m, 1, 0, 0, 1)).toBe(0);
    expect(at(m, 2, 3, 4, 1)).toBe(1);
    expect(at(m, 4, 2, 2, 1)).toBe(1);
    expect(at(m, 4, 2, 2, 0)).toBe(0);
    expect(at(m, 5, 2, 2, 1)).toBe(0);
    expect(m.data.reduce((a, v) => a + v, 0)).toBe(3 * 20);
    expect(() => coloredStimulus(2, 3, 4, 5)).toThrow(/channelIdx must be in \[0, 2\)/);
    expect(concatMovies([m, m]).shape).toEqual([12, 4, 5, 3]);
  });
});
