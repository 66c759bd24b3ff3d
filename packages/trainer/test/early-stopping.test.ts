import { describe, expect, it, vi } from 'vitest';
import { EarlyStopping, createEarlyStopping } from '../src/index.js';

/** Runs a metric sequence; returns the epoch it stopped at (or -1) and the wait counts. */
function run(es: EarlyStopping, values: number[]): { stoppedAt: number; waits: number[] } {
  const waits: number[] = [];
  for (let e = 0; e < values.length; e++) {
    const d = es.check({ [es.monitor]: values[e]! }, e);
    waits.push(es.waitCount);
    if (d.shouldStop) return { stoppedAt: e, waits };
  }
  return { stoppedAt: -1, waits };
}

// Expectations derived by hand from Lightning 2.x `EarlyStopping._evaluate_stopping_criteria`: improvement iff
// monitor_op(current − min_delta·sign, best) with sign +1 in max mode and −1 in min mode; stop when the wait count
// reaches the patience; non-finite values stop at once when check_finite.
describe('EarlyStopping (Lightning semantics) on scripted metric sequences', () => {
  it('max mode with min_delta 0.001 (OpenRetina config) counts only improvements above min_delta', () => {
    const es = new EarlyStopping({ monitor: 'val_evaluation_loss', mode: 'max', minDelta: 0.001, patience: 3 });
    const r = run(es, [0.1, 0.1005, 0.1011, 0.1015, 0.1016, 0.1017, 0.5]);
    expect(r.waits).toEqual([0, 1, 0, 1, 2, 3]);
    expect(r.stoppedAt).toBe(5);
    expect(es.bestScore).toBe(0.1011);
    expect(es.stoppedEpoch).toBe(5);
  });

  it('min mode with min_delta 0.1', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', mode: 'min', minDelta: 0.1, patience: 2 });
    const r = run(es, [1.0, 0.95, 0.85, 0.84, 0.83]);
    expect(r.waits).toEqual([0, 1, 0, 1, 2]);
    expect(r.stoppedAt).toBe(4);
    expect(es.bestScore).toBe(0.85);
  });

  it('patience 10 with no min_delta: equal values are not improvements', () => {
    const es = new EarlyStopping({ monitor: 'm', mode: 'max', patience: 10 });
    const r = run(es, [0.3, ...Array<number>(12).fill(0.3)]);
    expect(r.stoppedAt).toBe(10);
  });

  it('check_finite stops on NaN/inf; without it NaN is a non-improvement', () => {
    expect(run(new EarlyStopping({ monitor: 'm', mode: 'max', patience: 5 }), [0.1, NaN, 0.2]).stoppedAt).toBe(1);
    expect(run(new EarlyStopping({ monitor: 'm', mode: 'min', patience: 5 }), [0.1, Infinity]).stoppedAt).toBe(1);
    const es = new EarlyStopping({ monitor: 'm', mode: 'max', patience: 2, checkFinite: false });
    const r = run(es, [0.1, NaN, 0.2, NaN, NaN]);
    expect(r.waits).toEqual([0, 1, 0, 1, 2]);
    expect(r.stoppedAt).toBe(4);
  });

  it('stopping and divergence thresholds', () => {
    expect(run(new EarlyStopping({ monitor: 'm', mode: 'max', patience: 9, stoppingThreshold: 0.5 }), [0.1, 0.5, 0.51]).stoppedAt).toBe(2);
    expect(run(new EarlyStopping({ monitor: 'm', mode: 'min', patience: 9, divergenceThreshold: 10 }), [5, 10, 11]).stoppedAt).toBe(2);
  });

  it('strict: a missing metric throws; non-strict warns and skips', () => {
    const strict = new EarlyStopping({ monitor: 'val_x', mode: 'max' });
    expect(() => strict.check({ val_y: 1 }, 0)).toThrow(/val_x.*val_y/);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lax = new EarlyStopping({ monitor: 'val_x', mode: 'max', strict: false });
    expect(lax.check({ val_y: 1 }, 0)).toEqual({ shouldStop: false, reason: null, improved: false });
    expect(warn).toHaveBeenCalledOnce();
    // with a warn callback the warning goes there and nothing is printed
    const seen: string[] = [];
    const routed = new EarlyStopping({ monitor: 'val_x', strict: false, warn: (m) => seen.push(m) });
    routed.check({ val_y: 1 }, 0);
    expect(seen).toEqual([expect.stringMatching(/"val_x", which is not available. Available metrics: val_y/)]);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });

  it('state round-trips through JSON (resume continues the count)', () => {
    const a = new EarlyStopping({ monitor: 'm', mode: 'max', minDelta: 0.001, patience: 3 });
    run(a, [0.1, 0.1005]);
    const b = createEarlyStopping({
      monitor: 'm',
      mode: 'max',
      min_delta: 0.001,
      patience: 3,
      verbose: true,
      strict: true,
      check_finite: false,
    });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())) as Record<string, unknown>);
    expect(run(b, [0.1011, 0.1015, 0.1016, 0.1017]).stoppedAt).toBe(3);
    expect(() => createEarlyStopping({ monitor: 'm', patients: 3 })).toThrow(/patients/);
  });
});
