import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, type MultiReadout, ShapeError, UnknownSessionError, UnsupportedError } from '@openretina/contracts';
import { CoreReadout, buildCoreReadout } from '@openretina/models';
import { MultiGaussianMaskReadout } from '@openretina/readout';
import { buildFixtureModel, refVideo } from '@openretina/test-utils/fixture-model';
import { ref, relativeError } from '@openretina/test-utils/fixtures';
import { randomizeWeights } from '@openretina/test-utils/random-weights';
import { WasmPredictor } from '../src/index.js';

const TOL = 1e-5;

/**
 * A two-session core-readout with random weights and non-trivial BatchNorm statistics. `pad`: temporal and spatial
 * padding in both layers, else space-only padding in the hidden layer as the
 * Höfling 2024 core.
 */
function randomModel(
  {
    pad = true,
    nonlinearity = 'softplus',
    positive = false,
    channels = [4, 8],
    cut = 2,
  }: Partial<{
    pad: boolean;
    nonlinearity: string;
    positive: boolean;
    channels: number[];
    cut: number;
  }> = {},
  seed = 1,
): CoreReadout {
  const model = buildCoreReadout({
    in_shape: [2, 16, 9, 8],
    n_neurons_dict: { a: 3, b: 6 },
    hidden_channels: channels,
    core: {
      temporal_kernel_sizes: [5, 3],
      spatial_kernel_sizes: [3, 3],
      gamma_input: 0,
      gamma_hidden: 0,
      gamma_in_sparse: 0,
      gamma_temporal: 0,
      cut_first_n_frames: cut,
      input_padding: pad ? [2, 1, 0] : 0,
      hidden_padding: pad ? true : [0, 1, 1],
    },
    readout: {
      _target_: 'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout',
      scale: true,
      bias: true,
      positive,
      nonlinearity,
      gaussian_mean_scale: 2,
      gaussian_var_scale: 1,
    },
  } as never);
  const next = randomizeWeights(model, seed);
  model.train();
  tf.tidy(() => model.forward(tf.randomNormal([3, 16, 9, 8, 2], 0.3, 1.2, 'float32', next) as tf.Tensor5D, { session: 'b' }));
  model.eval();
  return model;
}

async function expectSameAsForward(predictor: WasmPredictor, model: CoreReadout, x: tf.Tensor5D, session: string, what: string) {
  const expected = model.forward(x, { session });
  const got = await predictor.predict(x, session);
  expect(got.shape, what).toEqual(expected.shape);
  expect(relativeError(got.dataSync(), expected.dataSync()), what).toBeLessThan(TOL);
  tf.dispose([expected, got]);
}

describe('WasmPredictor against OpenRetina (the fixture model, Höfling 2024 low-res core-readout)', () => {
  let model: CoreReadout;
  let predictor: WasmPredictor;
  beforeAll(async () => {
    model = buildFixtureModel();
    model.eval();
    predictor = await WasmPredictor.create(model);
  });
  afterAll(() => {
    predictor.dispose();
    model.dispose();
  });

  it("gives OpenRetina's eval responses within 1e-5 for two sessions and two lengths, and leaves no tensor behind", async () => {
    for (const [input, out] of [
      ['input/x', 'eval/out'],
      ['input/x_T40', 'eval/out_T40'],
    ] as const) {
      const x = refVideo(input);
      for (const session of ['session_2', 'session_3']) {
        const name = `${out}/${session}`;
        if (input === 'input/x_T40' && session === 'session_3') continue; // the fixture has session 2 at 40 frames
        const before = tf.memory().numTensors;
        const got = await predictor.predict(x, session);
        expect(tf.memory().numTensors).toBe(before + 1);
        const expected = ref(name);
        expect(got.shape).toEqual(expected.shape);
        expect(relativeError(got.dataSync(), expected.data as Float32Array), name).toBeLessThan(TOL);
        got.dispose();
      }
      x.dispose();
    }
  });
});

describe('WasmPredictor against model.forward', () => {
  it.each([
    ['temporal and spatial padding, cut frames, softplus', { pad: true }],
    ['spatial padding only, exp readout', { pad: false, nonlinearity: 'exp' }],
    ['positive features, identity readout, no cut', { positive: true, nonlinearity: 'identity', cut: 0 }],
    ['relu readout, 12 and 4 channels', { nonlinearity: 'relu', channels: [12, 4] }],
    ['elu readout', { nonlinearity: 'elu' }],
  ])('%s: batches of 1 and 2, lengths not a multiple of 4, both sessions, 1 and 3 threads', async (_, options) => {
    const model = randomModel(options, 5);
    for (const threads of [1, 3]) await predictsAsForward(model, threads);
    model.dispose();
  });

  async function predictsAsForward(model: CoreReadout, threads: number) {
    const predictor = await WasmPredictor.create(model, { threads });
    expect(predictor.threads).toBe(threads);
    for (const [batch, T] of [
      [2, 16],
      [1, 23],
      [2, 41],
    ] as const) {
      const x = tf.randomNormal([batch, T, 9, 8, 2], 0, 1, 'float32', T) as tf.Tensor5D;
      for (const session of ['a', 'b'])
        await expectSameAsForward(predictor, model, x, session, `${batch}×${T} ${session}, ${threads} threads`);
      x.dispose();
    }
    predictor.dispose();
  }

  it('the Höfling 2024 dimensions (2 × 18 × 16 frames, 16 + 16 channels, 21/11 taps, 11/5 spatial), 150 frames', async () => {
    const model = buildCoreReadout({
      in_shape: [2, 150, 18, 16],
      n_neurons_dict: { s: 32 },
      hidden_channels: [16, 16],
      core: {
        temporal_kernel_sizes: [21, 11],
        spatial_kernel_sizes: [11, 5],
        input_padding: 0,
        hidden_padding: [0, 2, 2],
        cut_first_n_frames: 0,
        gamma_input: 0,
        gamma_hidden: 0,
        gamma_in_sparse: 0,
        gamma_temporal: 0,
      },
      readout: { _target_: 'openretina.modules.readout.multi_readout.MultiGaussianMaskReadout', scale: true, bias: true, positive: true },
    } as never);
    let seed = 3;
    for (const [name, v] of model.namedParameters())
      if (/(sin_weights|cos_weights|weight_spatial|features|mask_mean)$/.test(name))
        tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', seed++)));
    model.eval();
    const x = tf.randomNormal([1, 150, 18, 16, 2], 0, 1, 'float32', 9) as tf.Tensor5D;
    for (const threads of [1, 2]) {
      const predictor = await WasmPredictor.create(model, { threads });
      await expectSameAsForward(predictor, model, x, 's', `1×150, ${threads} threads`);
      predictor.dispose();
    }
    tf.dispose(x);
    model.dispose();
  });

  it('a worker alone computes what the calling thread does (the threads path is taken, not only the caller)', async () => {
    const model = randomModel({ channels: [8, 4] }, 13);
    const x = tf.randomNormal([2, 19, 9, 8, 2], 0, 1, 'float32', 4) as tf.Tensor5D;
    const predictor = await WasmPredictor.create(model, { threads: 2 });
    // the caller skips its share: every piece of every layer is left to the worker
    const kernels = (predictor as unknown as { kernels: { runConvBlocks(jobs: readonly (readonly number[] | undefined)[]): void } })
      .kernels;
    const run = kernels.runConvBlocks.bind(kernels);
    let dispatches = 0;
    kernels.runConvBlocks = (jobs) => {
      dispatches++;
      run([undefined, ...jobs.slice(1)]);
    };
    await expectSameAsForward(predictor, model, x, 'b', 'worker only');
    expect(dispatches).toBe(2 * 2); // two layers, two samples
    predictor.dispose();
    x.dispose();
    model.dispose();
  });

  it('follows changes of the weights and of the BatchNorm statistics, and never changes the model', async () => {
    const model = randomModel({ positive: true }, 21);
    const predictor = await WasmPredictor.create(model);
    const x = tf.randomNormal([1, 20, 9, 8, 2], 0, 1, 'float32', 2) as tf.Tensor5D;
    const state = () => [...model.namedParameters().values(), ...model.namedBuffers().values()].map((v) => Array.from(v.dataSync()));
    const before = state();
    await expectSameAsForward(predictor, model, x, 'b', 'first');
    // positive readout: the forward above clamped the features in place; make some negative again
    const features = model.namedParameters().get('readout.b.features')!;
    tf.tidy(() => features.assign(tf.sub(features, 0.3)));
    const afterAssign = state();
    const got = await predictor.predict(x, 'b');
    expect(state()).toEqual(afterAssign); // the predictor read the features clamped, without clamping them
    const expected = model.forward(x, { session: 'b' });
    expect(relativeError(got.dataSync(), expected.dataSync())).toBeLessThan(TOL);
    tf.dispose([got, expected]);
    expect(before.length).toBe(afterAssign.length);
    // a weight and a running statistic
    const spatial = model.namedParameters().get('core.features.layer1.conv.weight_spatial')!;
    tf.tidy(() => spatial.assign(tf.mul(spatial, -1.5)));
    await expectSameAsForward(predictor, model, x, 'b', 'new spatial weight');
    const runningVar = model.namedBuffers().get('core.features.layer0.norm.running_var')!;
    tf.tidy(() => runningVar.assign(tf.mul(runningVar, 3)));
    await expectSameAsForward(predictor, model, x, 'b', 'new running variance');
    x.dispose();
    predictor.dispose();
    model.dispose();
  });
});

describe('WasmPredictor on bad input', () => {
  let model: CoreReadout;
  let predictor: WasmPredictor;
  beforeAll(async () => {
    model = randomModel({}, 2);
    predictor = await WasmPredictor.create(model);
  });
  afterAll(() => {
    predictor.dispose();
    model.dispose();
  });

  it('names what it expected and what came', async () => {
    const wrong = tf.zeros([1, 16, 8, 9, 2]) as tf.Tensor5D;
    await expect(predictor.predict(wrong, 'a')).rejects.toThrow(ShapeError);
    await expect(predictor.predict(wrong, 'a')).rejects.toThrow('[batch, time, 9, 8, 2] (channels last), got [1, 16, 8, 9, 2]');
    wrong.dispose();
    const short = tf.zeros([1, 1, 9, 8, 2]) as tf.Tensor5D;
    await expect(predictor.predict(short, 'a')).rejects.toThrow(
      /1-frame stimulus leaves no response frame: the core's output has 1 frame and drops the first 2/,
    );
    short.dispose();
    const x = tf.zeros([1, 16, 9, 8, 2]) as tf.Tensor5D;
    await expect(predictor.predict(x, 'nope')).rejects.toThrow(UnknownSessionError);
    x.dispose();
    const values = new Float32Array(16 * 9 * 8 * 2);
    expect(() => predictor.predictValues(values.subarray(1), [1, 16, 9, 8, 2], 'a')).toThrow(/has 2304 values; the array has 2303/);
    values[9 * 8 * 2 * 3 + 5] = Number.NaN;
    expect(() => predictor.predictValues(values, [1, 16, 9, 8, 2], 'a')).toThrow(DataError);
    expect(() => predictor.predictValues(values, [1, 16, 9, 8, 2], 'a')).toThrow(/NaN at sample 0, frame 3/);
  });

  it('refuses a thread count that is not a positive integer, and a disposed predictor', async () => {
    await expect(WasmPredictor.create(model, { threads: 0 })).rejects.toThrow('threads must be a positive integer, got 0');
    await expect(WasmPredictor.create(model, { threads: 1.5 })).rejects.toThrow(RangeError);
    const gone = await WasmPredictor.create(model, { threads: 2 });
    gone.dispose();
    expect(() => gone.predictValues(new Float32Array(16 * 9 * 8 * 2), [1, 16, 9, 8, 2], 'a')).toThrow('This WasmPredictor was disposed.');
  });

  it('says which models it does not cover', async () => {
    const odd = randomModel({ channels: [3, 4] }, 1);
    const support = WasmPredictor.supports(odd);
    expect(support).toEqual({ ok: false, reason: expect.stringMatching(/multiple of 4 channels per layer \(layer 0 has 3\)/) });
    await expect(WasmPredictor.create(odd)).rejects.toThrow(UnsupportedError);
    odd.dispose();
    expect(WasmPredictor.supports(model)).toEqual({ ok: true });
  });

  it('names a readout that reads another size than the core gives', async () => {
    // the core gives 8 channels of 9 × 6; this readout reads 8 of 7 × 8
    const readout = new MultiGaussianMaskReadout({ inShape: [8, 14, 7, 8], nNeuronsDict: { a: 3 }, scale: true, bias: true });
    const odd = new CoreReadout({ core: model.core, readout, inputShape: [2, 9, 8] });
    odd.eval();
    const p = await WasmPredictor.create(odd);
    const x = tf.zeros([1, 16, 9, 8, 2]) as tf.Tensor5D;
    await expect(p.predict(x, 'a')).rejects.toThrow(ShapeError);
    await expect(p.predict(x, 'a')).rejects.toThrow('The readout of session a reads 8 channels of 7×8, but the core gives 8 of 9×6.');
    tf.dispose([x, ...readout.namedParameters().values(), ...readout.namedBuffers().values()]);
    p.dispose();
  });
});

describe('WasmPredictor and a multi-readout of another package', () => {
  it("reaches the per-session readouts through the contract's readout(session), and says so when there is none", async () => {
    const model = randomModel({}, 3);
    model.eval();
    const ours = model.readout as MultiGaussianMaskReadout;
    // a multi-readout that is not one of our classes (its prototype is a plain object's); everything but
    // readout(session) is our readout's, called on it
    const foreign = (withReadout: boolean): MultiReadout =>
      new Proxy(ours, {
        getPrototypeOf: () => Object.prototype,
        get: (target, key) => {
          if (key === 'readout') return withReadout ? (s: string) => target.readout(s) : undefined;
          if (key === 'constructor') return { name: 'ForeignReadout' };
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const inputShape = [2, 9, 8] as const;
    const withIt = new CoreReadout({ core: model.core, readout: foreign(true), inputShape });
    const predictor = await WasmPredictor.create(withIt);
    const x = tf.randomNormal([2, 16, 9, 8, 2], 0, 1, 'float32', 4) as tf.Tensor5D;
    for (const session of ['a', 'b']) await expectSameAsForward(predictor, model, x, session, `session ${session}`);
    predictor.dispose();
    x.dispose();
    const without = new CoreReadout({ core: model.core, readout: foreign(false), inputShape });
    expect(WasmPredictor.supports(without)).toEqual({
      ok: false,
      reason: 'The WebAssembly predictor needs a readout per session (MultiReadout.readout); ForeignReadout has none.',
    });
    model.dispose();
  });
});

describe('the kernels binary', () => {
  it('is the compiled assembly/kernels.ts', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    // fails (exit 1) when src/kernels-binary.ts differs from a fresh compile
    execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--check'], { stdio: 'pipe' });
  });
});
