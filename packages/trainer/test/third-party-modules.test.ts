// A core and a readout written against @openretina/contracts only (plain classes with their own tf.Variables, no
// base class of ours) are first-class: inside a CoreReadout with our readout / our core they run forward, save and
// load state dicts, train with train(), and go through hub's checkpoint folders.
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SPECIFICATION_VERSION,
  StateDictError,
  type Core,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type MultiReadout,
  type SessionBatch,
  type StateDict,
} from '@openretina/contracts';
import { z } from 'zod';
import { buildCoreReadout, registerCore, registerReadout, type CoreReadout, type CoreReadoutConfig } from '@openretina/models';
import { loadCheckpoint, saveCheckpoint } from '@openretina/hub/node';
import { train, type TrainingData } from '../src/index.js';

const C = 2;
const T = 12;
const H = 6;
const W = 5;
const NEURONS: Record<string, number> = { a: 3, b: 2 };

/** Named variables' values, copied. */
function values(vars: Map<string, tf.Variable>): Map<string, number[]> {
  return new Map([...vars].map(([k, v]) => [k, Array.from(v.dataSync())]));
}

/** Loads named arrays into variables after checking every key and shape (what a contract's loadStateDict owes). */
function loadInto(owner: string, vars: Map<string, tf.Variable>, sd: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
  const missingKeys = [...vars.keys()].filter((k) => !sd.has(k));
  const unexpectedKeys = [...sd.keys()].filter((k) => !vars.has(k));
  if ((options.strict ?? true) && (missingKeys.length || unexpectedKeys.length))
    throw new StateDictError(`${owner}: missing [${missingKeys.join(', ')}], unexpected [${unexpectedKeys.join(', ')}]`);
  for (const [k, v] of vars) {
    const entry = sd.get(k);
    if (!entry) continue;
    if (entry.shape.join() !== v.shape.join()) throw new StateDictError(`${owner}: ${k} has shape [${entry.shape}], expected [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(Float32Array.from(entry.data as Float32Array), v.shape)));
  }
  return { missingKeys, unexpectedKeys };
}

function stateOf(vars: Map<string, tf.Variable>): StateDict {
  return new Map([...vars].map(([k, v]) => [k, { shape: [...v.shape], dtype: 'float32' as const, data: v.dataSync() as Float32Array }]));
}

/** A pointwise core: per pixel and frame, `elu(W·x + b)` over channels, with an L2 penalty on W. */
class MixCore implements Core {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly framesCut = 0;
  training = true;
  private readonly vars: Map<string, tf.Variable>;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    private readonly gamma = 0.01,
    seed = 1,
  ) {
    this.vars = new Map([
      ['weight', tf.variable(tf.randomNormal([outChannels, inChannels], 0, 0.5, 'float32', seed))],
      ['bias', tf.variable(tf.zeros([outChannels]))],
    ]);
  }
  outputShape(s: readonly [number, number, number, number]): [number, number, number, number] {
    return [s[0], s[1], s[2], this.outChannels];
  }
  forward(x: tf.Tensor5D): tf.Tensor5D {
    return tf.tidy(() => {
      const [b, t, h, w, c] = x.shape;
      const y = tf.add(tf.matMul(tf.reshape(x, [-1, c]), this.vars.get('weight')!, false, true), this.vars.get('bias')!);
      return tf.reshape(tf.elu(y), [b, t, h, w, this.outChannels]) as tf.Tensor5D;
    });
  }
  regularizer(): tf.Scalar {
    return tf.tidy(() => tf.mul(tf.sum(tf.square(this.vars.get('weight')!)), this.gamma) as tf.Scalar);
  }
  namedParameters(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }
  stateDict(): StateDict {
    return stateOf(this.vars);
  }
  loadStateDict(sd: StateDict, options?: LoadStateDictOptions): LoadStateDictResult {
    return loadInto('MixCore', this.vars, sd, options);
  }
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

/** Per session: `softplus(mean over space of the features · W + b)`, keys `<session>.weight [c, N]`, `<session>.bias [N]`. */
class PooledReadout implements MultiReadout {
  readonly specificationVersion = SPECIFICATION_VERSION;
  training = true;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly neurons = new Map<string, number>();

  constructor(
    private readonly channels: number,
    nNeurons: Readonly<Record<string, number>>,
  ) {
    this.addSessions(nNeurons);
  }
  get sessions(): readonly string[] {
    return [...this.neurons.keys()].sort();
  }
  numNeurons(session: string): number {
    const n = this.neurons.get(session);
    if (n === undefined) throw new Error(`unknown session ${session}`);
    return n;
  }
  addSessions(nNeurons: Readonly<Record<string, number>>): void {
    for (const [s, n] of Object.entries(nNeurons)) {
      this.neurons.set(s, n);
      this.vars.set(`${s}.weight`, tf.variable(tf.randomNormal([this.channels, n], 0, 0.3, 'float32', n)));
      this.vars.set(`${s}.bias`, tf.variable(tf.zeros([n])));
    }
  }
  forward(features: tf.Tensor5D, options: { session?: string } = {}): tf.Tensor3D {
    const one = (s: string): tf.Tensor3D =>
      tf.tidy(() => {
        const pooled = tf.mean(features, [2, 3]) as tf.Tensor3D; // [B, T, c]
        const [b, t, c] = pooled.shape;
        const y = tf.add(tf.matMul(tf.reshape(pooled, [b * t, c]), this.vars.get(`${s}.weight`)!), this.vars.get(`${s}.bias`)!);
        return tf.reshape(tf.softplus(y), [b, t, this.numNeurons(s)]) as tf.Tensor3D;
      });
    if (options.session !== undefined) return one(options.session);
    return tf.tidy(() => tf.concat(this.sessions.map(one), 2) as tf.Tensor3D);
  }
  regularizer(session?: string): tf.Scalar {
    return tf.tidy(() => tf.mul(tf.sum(tf.abs(this.vars.get(`${session ?? this.sessions[0]}.weight`)!)), 0.001) as tf.Scalar);
  }
  namedParameters(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }
  stateDict(): StateDict {
    return stateOf(this.vars);
  }
  loadStateDict(sd: StateDict, options?: LoadStateDictOptions): LoadStateDictResult {
    return loadInto('PooledReadout', this.vars, sd, options);
  }
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

// Third parties register their classes with their own zod schemas (snake_case keys, as in OpenRetina's configs).
registerCore(
  'thirdparty.MixCore',
  z.object({ channels: z.tuple([z.number(), z.number()]), gamma: z.number(), seed: z.number().int() }),
  (o) => {
    const [inC, outC] = o.channels;
    return new MixCore(inC, outC, o.gamma, o.seed);
  },
);
registerReadout('thirdparty.PooledReadout', z.object({ in_shape: z.array(z.number()) }), (o, ctx) => {
  const [c] = o.inShape;
  return new PooledReadout(c!, ctx.nNeuronsDict);
});

const GAUSSIAN_READOUT = {
  scale: true,
  bias: true,
  gaussian_mean_scale: 6,
  gaussian_var_scale: 4,
  positive: true,
  mask_l1_reg: 0.01,
  feature_weights_l1_reg: 0.01,
  readout_reg_avg: false,
};

/** Our Gaussian-mask readout on the third party's core. */
const WITH_PLAIN_CORE: CoreReadoutConfig = {
  in_shape: [C, T, H, W],
  n_neurons_dict: NEURONS,
  hidden_channels: [4],
  core: { _target_: 'thirdparty.MixCore', gamma: 0.01, seed: 3 },
  readout: GAUSSIAN_READOUT,
  learning_rate: 0.02,
};

/** The third party's readout on our SimpleCoreWrapper. */
const WITH_PLAIN_READOUT: CoreReadoutConfig = {
  in_shape: [C, T, H, W],
  n_neurons_dict: NEURONS,
  hidden_channels: [4],
  core: {
    temporal_kernel_sizes: [3],
    spatial_kernel_sizes: [3],
    gamma_input: 0.1,
    gamma_hidden: 0,
    gamma_in_sparse: 0,
    gamma_temporal: 1,
    input_padding: 0,
    hidden_padding: 0,
    cut_first_n_frames: 0,
  },
  readout: { _target_: 'thirdparty.PooledReadout' },
  learning_rate: 0.02,
};

/** Responses that follow the stimulus (learnable by both models), four training batches and one validation batch per session. */
function syntheticData(framesCut: number): TrainingData {
  const batch = (session: string, seed: number): SessionBatch => {
    const inputs = tf.randomUniform([2, T, H, W, C], 0, 1, 'float32', seed) as tf.Tensor5D;
    const targets = tf.tidy(() => {
      const drive = tf.mean(inputs, [2, 3, 4]); // [2, T]
      const n = NEURONS[session]!;
      return tf.slice(tf.tile(tf.expandDims(tf.mul(drive, 3), 2), [1, 1, n]), [0, framesCut, 0], [-1, -1, -1]) as tf.Tensor3D;
    });
    return { session, inputs, targets };
  };
  return {
    stepsPerEpoch: 4,
    *train(epoch) {
      for (let i = 0; i < 4; i++) yield batch(i % 2 ? 'b' : 'a', 100 * epoch + i);
    },
    *validation() {
      yield batch('a', 9001);
      yield batch('b', 9002);
    },
  };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.each([
  ['a plain Core with our readout', WITH_PLAIN_CORE, 'core.weight'],
  ['a plain MultiReadout with our core', WITH_PLAIN_READOUT, 'readout.a.weight'],
] as const)('%s inside a CoreReadout', (_name, config, plainKey) => {
  it('forward, state-dict round trip, train() with falling loss, checkpoint save and load; memory flat', async () => {
    const model = buildCoreReadout(config, { seed: 1 });
    const x = tf.randomUniform([1, T, H, W, C], 0, 1, 'float32', 5) as tf.Tensor5D;
    const y0 = model.forward(x, { session: 'a' });
    expect(y0.shape).toEqual([1, T - model.framesCut, 3]);
    const keys = [...model.stateDict().keys()];
    expect(keys).toContain(plainKey);
    expect(keys.some((k) => k.startsWith('core.'))).toBe(true);
    expect(keys.some((k) => k.startsWith('readout.b.'))).toBe(true);

    // round trip into a model with other weights
    const other = buildCoreReadout(config, { seed: 9 });
    other.loadStateDict(model.stateDict());
    const y1 = other.forward(x, { session: 'a' });
    expect(Array.from(y1.dataSync())).toEqual(Array.from(y0.dataSync()));
    const broken = model.stateDict();
    broken.delete(plainKey);
    expect(() => other.loadStateDict(broken)).toThrow(StateDictError);

    // train
    const plain = new Map([...model.namedParameters()].filter(([k]) => k === plainKey));
    const before = values(plain);
    const start = tf.memory().numTensors;
    const result = await train(model, syntheticData(model.framesCut), { maxEpochs: 3, scheduler: null, restoreBest: false });
    expect(tf.memory().numTensors).toBe(start);
    const losses = result.history.map((h) => h.metrics.train_total_loss!);
    expect(losses[2]!).toBeLessThan(losses[0]!);
    expect(values(plain).get(plainKey)).not.toEqual(before.get(plainKey));

    // checkpoint folder written by hub and read back through the registry
    const dir = mkdtempSync(join(tmpdir(), 'third-party-'));
    dirs.push(dir);
    await saveCheckpoint(model, join(dir, 'ckpt'), { architecture: config });
    const { model: loaded } = await loadCheckpoint(join(dir, 'ckpt'));
    model.eval();
    const expected = model.forward(x, { session: 'b' });
    const got = loaded.forward(x, { session: 'b' });
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([x, y0, y1, expected, got]);
    for (const m of [model, other, loaded]) m.dispose();
  });
});

it('onlyTrainReadout freezes a plain core through the contract', async () => {
  const model: CoreReadout = buildCoreReadout(WITH_PLAIN_CORE, { seed: 2 });
  const core = values(model.core.namedParameters());
  await train(model, syntheticData(0), { maxEpochs: 1, scheduler: null, onlyTrainReadout: true });
  expect(values(model.core.namedParameters())).toEqual(core);
  expect([...model.core.namedParameters().values()].every((v) => !v.trainable)).toBe(true);
  model.dispose();
});
