import { describe, expect, it } from 'vitest';
import {
  correlation,
  evaluateSession,
  explainableVsTotalVar,
  feve,
  globalMeanOracle,
  mse,
  oracleCorrJackknife,
  poissonLossNumpy,
  summarizeEvaluation,
  toCsv,
  toJson,
  type NDArray,
} from '../src/index.js';
import { maxRelErr, trainerFixture } from './helpers.js';

type Nested = number | Nested[];
const fx = trainerFixture<Record<string, Nested>>('metrics.json');

function nd(x: Nested): NDArray {
  const shape: number[] = [];
  let cur: Nested = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0]!;
  }
  return { data: Float64Array.from(flat(x)), shape };
}
function flat(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap((v) => flat(v)) : [x];
}

describe('evaluation metrics match OpenRetina (numpy) on small arrays (fixtures/trainer/metrics.json)', () => {
  const y1 = nd(fx.y1!);
  const y2 = nd(fx.y2!);
  const resp = nd(fx.responses!);
  const TOL = 1e-12;

  it('correlation, MSE, Poisson along an axis', () => {
    expect(maxRelErr(correlation(y1, y2, 0).data, flat(fx.correlation_axis0!))).toBeLessThan(TOL);
    expect(maxRelErr(correlation(y1, y2, -1).data, flat(fx.correlation_axis1!))).toBeLessThan(TOL);
    expect(correlation(y1, y2, 0).shape).toEqual([7]);
    expect(maxRelErr(mse(y1, y2, 0).data, flat(fx.mse_axis0!))).toBeLessThan(TOL);
    const abs = (a: NDArray): NDArray => ({ data: Array.from(a.data, Math.abs), shape: a.shape });
    expect(maxRelErr(poissonLossNumpy(abs(y1), abs(y2), 1e-8, 0).data, flat(fx.poisson_axis0!))).toBeLessThan(TOL);
    const c3 = correlation(resp, nd(fx.pred3!), 1);
    expect(c3.shape).toEqual([12, 5]);
    expect(maxRelErr(c3.data, flat(fx.correlation_3d_axis1!))).toBeLessThan(TOL);
  });

  it('explainable/total variance ratio, FEVe (3-D and 2-D predictions)', () => {
    const v = explainableVsTotalVar(resp);
    expect(maxRelErr(v.varRatio, flat(fx.var_ratio!))).toBeLessThan(TOL);
    expect(maxRelErr(v.explainableVar, flat(fx.explainable_var!))).toBeLessThan(TOL);
    expect(maxRelErr(feve(resp, nd(fx.pred3!)), flat(fx.feve_3d!))).toBeLessThan(1e-10);
    expect(maxRelErr(feve(resp, nd(fx.pred2!)), flat(fx.feve_2d!))).toBeLessThan(1e-10);
  });

  it('jackknife oracle (with and without cut frames) and the global-mean oracle', () => {
    const j = oracleCorrJackknife(resp);
    expect(maxRelErr(j.score, flat(fx.jackknife!))).toBeLessThan(TOL);
    expect(maxRelErr(j.oracle.data, flat(fx.jackknife_oracle!))).toBeLessThan(TOL);
    expect(maxRelErr(oracleCorrJackknife(resp, 3).score, flat(fx.jackknife_cut3!))).toBeLessThan(TOL);
    expect(maxRelErr(globalMeanOracle(resp), flat(fx.global_mean_oracle_3d!))).toBeLessThan(TOL);
    const r2 = nd((fx.responses as Nested[][]).map((f) => f[0]!) as Nested);
    expect(maxRelErr(globalMeanOracle(r2, 2), flat(fx.global_mean_oracle_2d_cut2!))).toBeLessThan(TOL);
  });

  it('per-neuron session evaluation, the 0.15 variance-ratio cutoff summary, CSV/JSON text', () => {
    // responses by trial [trials, T, N] from the fixture's (frames, repeats, neurons); targets/predictions with a lag of 2.
    const [F, R, N] = resp.shape as [number, number, number];
    const byTrial = new Float64Array(R * F * N);
    for (let f = 0; f < F; f++)
      for (let r = 0; r < R; r++) for (let n = 0; n < N; n++) byTrial[(r * F + f) * N + n] = resp.data[(f * R + r) * N + n]!;
    const avg = new Float64Array(F * N);
    for (let f = 0; f < F; f++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let r = 0; r < R; r++) s += resp.data[(f * R + r) * N + n]!;
        avg[f * N + n] = s / R;
      }
    const lag = 2;
    const pred2 = nd(fx.pred2!);
    const pred = { data: Array.prototype.slice.call(pred2.data, lag * N) as number[], shape: [F - lag, N] };
    const ev = evaluateSession({
      session: 's1',
      predictions: pred,
      targets: { data: avg, shape: [F, N] },
      averageResponses: { data: avg, shape: [F, N] },
      responsesByTrial: { data: byTrial, shape: [R, F, N] },
      sessionKwargs: { cell_type: [1, 2, 3, 4, 5], roi: 'x' },
    });
    expect(ev.lag).toBe(2);
    expect(ev.rows).toHaveLength(N);
    // Direct formulas on the aligned window.
    const aligned = (src: Float64Array, t0: number): Float64Array => src.slice(t0 * N, (t0 + F - lag) * N);
    const c = correlation({ data: aligned(avg, lag), shape: [F - lag, N] }, pred, 0).data;
    const bt = new Float64Array((F - lag) * R * N);
    for (let f = 0; f < F - lag; f++)
      for (let r = 0; r < R; r++) for (let n = 0; n < N; n++) bt[(f * R + r) * N + n] = resp.data[((f + lag) * R + r) * N + n]!;
    const vr = explainableVsTotalVar({ data: bt, shape: [F - lag, R, N] }).varRatio;
    ev.rows.forEach((row, n) => {
      expect(row.corr_to_average).toBeCloseTo(c[n]!, 12);
      expect(row.var_ratio).toBeCloseTo(vr[n]!, 12);
      expect(row.cell_type).toBe(n + 1);
      expect(row.roi).toBe('x');
      expect(typeof row.corr_3).toBe('number');
      let p = 0;
      for (let t = 0; t < F - lag; t++) p += pred.data[t * N + n]! - avg[(t + lag) * N + n]! * Math.log(pred.data[t * N + n]! + 1e-16);
      expect(row.poisson_loss_to_average).toBeCloseTo(p / (F - lag), 12);
    });
    const { summary, kept } = summarizeEvaluation(ev.rows, { nTrialsPerSession: [R], temporalLag: ev.lag });
    expect(summary.filtering_applied).toBe(true);
    expect(kept.every((r) => r.var_ratio >= 0.15)).toBe(true);
    expect(summary.n_neurons_filtered).toBe(ev.rows.filter((r) => r.var_ratio >= 0.15).length);
    expect(summary.n_neurons_filtered).toBeLessThan(N); // the last neuron has no signal
    expect(summary.corr_to_avg_mean).toBeCloseTo(kept.reduce((a, r) => a + r.corr_to_average, 0) / kept.length, 12);
    // Without trials nothing is filtered and the variance metrics are NaN.
    const noTrials = evaluateSession({
      session: 's',
      predictions: pred,
      targets: { data: avg, shape: [F, N] },
      averageResponses: { data: avg, shape: [F, N] },
    });
    expect(Number.isNaN(noTrials.rows[0]!.feve)).toBe(true);
    expect(summarizeEvaluation(noTrials.rows).summary.filtering_applied).toBe(false);
    const csv = toCsv(ev.rows).split('\n');
    expect(csv[0]!.startsWith(',session,neuron_relative_idx,data_split,poisson_loss_to_average')).toBe(true);
    expect(csv).toHaveLength(N + 2);
    expect(JSON.parse(toJson({ a: NaN, b: 1 }))).toEqual({ a: null, b: 1 });
  });
});
