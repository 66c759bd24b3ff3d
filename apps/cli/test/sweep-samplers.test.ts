import { describe, expect, it } from 'vitest';
import {
  defaultGamma,
  defaultWeights,
  gridPoints,
  planStudy,
  parseDistribution,
  randomSource,
  sampleParams,
  sampleTpe,
  spaceFromParams,
  splitObservations,
  splitSweepOverrides,
  type Observation,
  type SearchSpace,
} from '../src/index.js';

describe('sweep search-space grammar (Hydra Optuna sweeper)', () => {
  it("reads choice of lists, interval, range and tag(log, ...) as Optuna's distributions", () => {
    // the hydra.sweeper.params of OpenRetina's hoefling_2024 hyper-parameter search
    const { space, fixed } = spaceFromParams({
      'model.hidden_channels': 'choice([8, 8, 8, 8], [16, 16, 16, 16], [32, 32, 32, 32])',
      'model.core.gamma_input': 'interval(1e-5, 1e-2)',
      'trainer.max_epochs': 3,
    });
    expect(space['model.hidden_channels']).toEqual({
      kind: 'categorical',
      choices: [
        [8, 8, 8, 8],
        [16, 16, 16, 16],
        [32, 32, 32, 32],
      ],
    });
    expect(space['model.core.gamma_input']).toEqual({ kind: 'float', low: 1e-5, high: 1e-2, log: false });
    expect(fixed).toEqual(['trainer.max_epochs=3']);
    expect(parseDistribution('k', 'interval(1, 8)')).toEqual({ kind: 'int', low: 1, high: 8, step: 1, log: false });
    expect(parseDistribution('k', 'tag(log, interval(1e-4, 1e-1))')).toEqual({ kind: 'float', low: 1e-4, high: 1e-1, log: true });
    // Hydra's range excludes its end
    expect(parseDistribution('k', 'range(2, 10, 4)')).toEqual({ kind: 'int', low: 2, high: 6, step: 4, log: false });
    expect(parseDistribution('k', 'range(0.1, 0.4, 0.1)')).toEqual({ kind: 'categorical', choices: [0.1, 0.2, 0.3] });
    expect(parseDistribution('k', 'choice(adam, "a b", true, null)')).toEqual({
      kind: 'categorical',
      choices: ['adam', 'a b', true, null],
    });
    expect(parseDistribution('k', '[1, 2]')).toBeNull();
    const split = splitSweepOverrides(['a=choice(1,2)', 'b=3', '+c=[1,2]']);
    expect(Object.keys(split.space)).toEqual(['a']);
    expect(split.fixed).toEqual(['b=3', '+c=[1,2]']);
  });

  it('names what is wrong with a bad sweep', () => {
    expect(() => parseDistribution('lr', 'interval(1)')).toThrow(/lr: interval\(lo, hi\) takes two numbers/);
    expect(() => parseDistribution('lr', 'interval(0.1, 0.01)')).toThrow(/lo < hi/);
    expect(() => parseDistribution('lr', 'tag(log, interval(0, 1))')).toThrow(/log interval needs lo > 0/);
    expect(() => parseDistribution('lr', 'interval(a, 1)')).toThrow(/must be a number, got "a"/);
    expect(() => parseDistribution('n', 'range(5, 1)')).toThrow(/lo < hi and step > 0/);
  });
});

const space: SearchSpace = {
  x: { kind: 'float', low: 0, high: 1, log: false },
  lr: { kind: 'float', low: 1e-4, high: 1e-1, log: true },
  n: { kind: 'int', low: 2, high: 10, step: 2, log: false },
  opt: { kind: 'categorical', choices: ['adam', 'sgd', 'rmsprop'] },
};

function inSpace(p: Record<string, unknown>): boolean {
  const x = p.x as number;
  const lr = p.lr as number;
  const n = p.n as number;
  return (
    x >= 0 && x <= 1 && lr >= 1e-4 && lr <= 1e-1 && [2, 4, 6, 8, 10].includes(n) && ['adam', 'sgd', 'rmsprop'].includes(p.opt as string)
  );
}

describe('samplers', () => {
  it('random: reproducible from the seed, in the space, different for another seed', () => {
    const a = Array.from({ length: 20 }, (_, n) => sampleParams('random', space, 7, n, []));
    const b = Array.from({ length: 20 }, (_, n) => sampleParams('random', space, 7, n, []));
    const c = Array.from({ length: 20 }, (_, n) => sampleParams('random', space, 8, n, []));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every(inSpace)).toBe(true);
    // log-uniform: about half the draws below the geometric middle (1e-4..1e-1 → 10^-2.5)
    const below = Array.from({ length: 400 }, (_, n) => sampleParams('random', space, 1, n, []).lr as number).filter((v) => v < 10 ** -2.5);
    expect(below.length).toBeGreaterThan(150);
    expect(below.length).toBeLessThan(250);
  });

  it('grid: every point exactly once per pass, in a seeded order; refuses a float interval', () => {
    const grid: SearchSpace = { n: space.n!, opt: space.opt! };
    const points = gridPoints(grid, 3);
    expect(points).toHaveLength(15);
    expect(new Set(points.map((p) => JSON.stringify(p))).size).toBe(15);
    expect(Array.from({ length: 15 }, (_, i) => sampleParams('grid', grid, 3, i, []))).toEqual(points);
    expect(gridPoints(grid, 4)).not.toEqual(points);
    expect(() => gridPoints(space, 0)).toThrow(/x is a float interval/);
  });
});

describe("TPE (Optuna's TPESampler, univariate)", () => {
  it("has Optuna's default gamma and weights", () => {
    expect([0, 1, 10, 11, 100, 250, 1000].map(defaultGamma)).toEqual([0, 1, 1, 2, 10, 25, 25]);
    expect(defaultWeights(0)).toEqual([]);
    expect(defaultWeights(24)).toEqual(Array(24).fill(1));
    const w = defaultWeights(35);
    expect(w).toHaveLength(35);
    expect(w[0]).toBeCloseTo(1 / 35, 12);
    expect(w[9]).toBeCloseTo(1, 12);
    expect(w.slice(10)).toEqual(Array(25).fill(1));
    for (let i = 1; i < 10; i++) expect(w[i]!).toBeGreaterThan(w[i - 1]!);
  });

  it('splits the finished trials into the best gamma(n) and the rest', () => {
    const obs: Observation[] = [5, 1, 4, 2, 3, 9, 8, 7, 6, 0, 10].map((loss, number) => ({ number, params: {}, loss }));
    const { below, above } = splitObservations(obs, defaultGamma);
    expect(below.map((o) => o.number)).toEqual([1, 9]); // gamma(11) = 2: losses 1 and 0
    expect(above).toHaveLength(9);
  });

  it('is random for the first n_startup_trials (10), then concentrates where the objective is good', () => {
    const f = (p: Record<string, unknown>) => ((p.x as number) - 0.7) ** 2 + (p.opt === 'sgd' ? 0 : 0.2);
    const run = (sampler: 'tpe' | 'random', seed: number) => {
      const obs: Observation[] = [];
      const params: Record<string, unknown>[] = [];
      for (let n = 0; n < 40; n++) {
        const p = sampleParams(sampler, space, seed, n, obs);
        expect(inSpace(p)).toBe(true);
        params.push(p);
        obs.push({ number: n, params: p, loss: f(p) });
      }
      return params;
    };
    for (const seed of [1, 2, 3]) {
      const tpe = run('tpe', seed);
      const random = run('random', seed);
      // the startup trials are independent of the history
      expect(tpe.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, n) => sampleTpe(space, [], randomSource(seed, n, 'tpe'))));
      const dist = (ps: Record<string, unknown>[]) => ps.slice(20).reduce((s, p) => s + Math.abs((p.x as number) - 0.7), 0) / 20;
      const sgd = (ps: Record<string, unknown>[]) => ps.slice(20).filter((p) => p.opt === 'sgd').length;
      expect(dist(tpe)).toBeLessThan(dist(random) / 2);
      expect(sgd(tpe)).toBeGreaterThan(sgd(random));
      expect(sgd(tpe)).toBeGreaterThanOrEqual(12);
      expect(run('tpe', seed)).toEqual(tpe);
    }
  });

  it('keeps integers on their steps and log floats in bounds when sampling from the estimators', () => {
    const obs: Observation[] = Array.from({ length: 15 }, (_, n) => {
      const p = sampleParams('random', space, 9, n, []);
      return { number: n, params: p, loss: Math.abs((p.n as number) - 6) + Math.abs(Math.log10(p.lr as number) + 3) };
    });
    const drawn = Array.from({ length: 30 }, (_, k) => sampleParams('tpe', space, 9, 15 + k, obs));
    expect(drawn.every(inSpace)).toBe(true);
    // past the startup trials the history decides: not the draws of the same streams without it
    const withoutHistory = Array.from({ length: 30 }, (_, k) => sampleParams('tpe', space, 9, 15 + k, []));
    expect(drawn).not.toEqual(withoutHistory);
  });
});

describe("a hyper-parameter-search config's hydra.sweeper block", () => {
  const config = 'goldin_2022_core_readout_hparams_search';
  // what this port cannot do is dropped as the refusal says (a W&B-style callback; MLflow's default sqlite store)
  const drop = ['~training_callbacks.weight_visualization', '~logger.mlflow'];
  it("runs OpenRetina's config as it is: params, n_trials, direction, sampler seed, study name, objective", () => {
    const { spec, configSeed, sweeper } = planStudy({ config, args: [...drop, 'paths.output_dir=/tmp/hp'] });
    expect(sweeper).toBe('optuna');
    expect(spec).toMatchObject({
      study: 'core_readout_goldin_2022',
      direction: 'minimize',
      sampler: 'tpe',
      seed: 42,
      nTrials: 50,
      jobs: 1,
      objective: 'val_loss',
      outputDir: '/tmp/hp',
    });
    expect(Object.keys(spec.space)).toEqual([
      'model.core.spatial_kernel_sizes',
      'model.core.gamma_input',
      'model.readout.weights_l1_reg',
      'model.readout.laplace_mask_reg',
      'model.readout.mask_l1_reg',
    ]);
    expect(spec.space['model.core.spatial_kernel_sizes']).toEqual({ kind: 'categorical', choices: [[20], [25], [30]] });
    expect(configSeed).toBe(42);
    // the command line wins: a fixed value removes a parameter, a sweep replaces it, options replace settings
    const cli = planStudy({
      config,
      args: [...drop, 'model.core.spatial_kernel_sizes=[25]', 'model.core.gamma_input=tag(log, interval(1e-3, 10))'],
      trials: 3,
      sampler: 'random',
      seed: 1,
      direction: 'maximize',
    }).spec;
    expect(cli.space['model.core.spatial_kernel_sizes']).toBeUndefined();
    expect(cli.space['model.core.gamma_input']).toEqual({ kind: 'float', low: 1e-3, high: 10, log: true });
    expect(cli).toMatchObject({ nTrials: 3, sampler: 'random', seed: 1, direction: 'maximize' });
  });

  it('refuses what a trial could not do (the default sqlite MLflow store) before any trial, saying what to do', () => {
    expect(() => planStudy({ config, args: ['~training_callbacks.weight_visualization'] })).toThrow(
      /tracking_uri "sqlite:.*set logger.mlflow.tracking_uri=http/,
    );
  });
});
