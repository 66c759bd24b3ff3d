import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@openretina/contracts';
import {
  ConvGRUCell,
  FiLM,
  FlatLaplaceL23dnorm,
  GaussianLaplaceL2,
  GRUModule,
  Laplace,
  LaplaceL2norm,
  SpaceTimeSeparableConv3d,
  ParametrizedELU,
  ParametrizedSoftplus,
  TimeLaplaceL23dnorm,
  createConvolution,
  gaussian2d,
  groupSparsity,
  temporalSmoothing,
  type Module,
  type Padding3d,
} from '../src/index.js';
import { close } from './helpers.js';
import { fx, fxScalar, fxState, fxTensor, fxVideo, toTorchLayout } from './fixture.js';

/** Value and gradient of a scalar function of one tensor. */
function valueAndGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor): { value: number; grad: Float32Array } {
  const g = tf.valueAndGrad(f);
  const { value, grad } = g(x);
  const out = { value: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
  tf.dispose([value, grad]);
  return out;
}

describe('regularizers match OpenRetina (PyTorch)', () => {
  it('Laplace 3×3, 5×5, 7×7 filters', () => {
    for (const k of [3, 5, 7]) {
      const lap = new Laplace({ filterSize: k });
      const x = tf.squeeze(fxTensor(`laplace${k}/x`), [1]) as tf.Tensor3D;
      const y = lap.forward(x);
      expect(y.shape).toEqual([2, 6, 6]);
      close(y.dataSync(), fx(`laplace${k}/y`).data, 1e-6);
      tf.dispose([x, y]);
      lap.dispose();
    }
  });

  const cases: [string, () => Module & { forward(x: tf.Tensor, avg?: boolean): tf.Scalar }][] = [
    ['flat_pad0', () => new FlatLaplaceL23dnorm({ padding: 0 })],
    ['flat_padNone', () => new FlatLaplaceL23dnorm()],
    ['time_pad0', () => new TimeLaplaceL23dnorm({ padding: 0 })],
    ['time_padNone', () => new TimeLaplaceL23dnorm()],
    ['laplaceL2', () => new LaplaceL2norm()],
    ['laplaceL2_pad0', () => new LaplaceL2norm({ padding: 0 })],
    ['gaussLaplace5', () => new GaussianLaplaceL2(5)],
    ['gaussLaplace57', () => new GaussianLaplaceL2([5, 7])],
  ];
  for (const [name, make] of cases) {
    it(`${name}: value and gradient, sum and mean`, () => {
      const reg = make();
      const x = fxTensor(`${name}/x`);
      for (const avg of [0, 1]) {
        const { value, grad } = valueAndGrad((w) => reg.forward(w, avg === 1), x);
        close([value], [fxScalar(`${name}/avg${avg}/value`)], 1e-5);
        close(grad, fx(`${name}/avg${avg}/grad`).data, 1e-5);
      }
      x.dispose();
      reg.dispose();
    });
  }

  it('gaussian2d (grid orientation, centre shift, rotation, normalisation)', () => {
    close(gaussian2d([5, 7], { sigma: 1.5, gamma: 0.7, theta: 0.4, center: [1, -2] }), fx('gaussian2d/a').data, 1e-6);
    close(gaussian2d([4, 4]), fx('gaussian2d/b').data, 1e-6);
    close(gaussian2d([6, 3], { sigma: 2, theta: 1.1, center: [0, 1], normalize: false }), fx('gaussian2d/c').data, 1e-6);
  });

  it('temporal smoothing and group sparsity, value and gradients', () => {
    const sin = fxTensor('smoothing/sin');
    const cos = fxTensor('smoothing/cos');
    const g = tf.grads((s: tf.Tensor, c: tf.Tensor) => temporalSmoothing(s, c));
    const [gs, gc] = g([sin, cos]);
    const v = temporalSmoothing(sin, cos);
    close(v.dataSync(), fx('smoothing/value').data, 1e-6);
    close(gs!.dataSync(), fx('smoothing/grad_sin').data, 1e-6);
    close(gc!.dataSync(), fx('smoothing/grad_cos').data, 1e-6);
    tf.dispose([sin, cos, gs!, gc!, v]);

    const w = fxTensor('group_sparsity/w');
    const { value, grad } = valueAndGrad((x) => groupSparsity(x), w);
    close([value], fx('group_sparsity/value').data, 1e-6);
    close(grad, fx('group_sparsity/grad').data, 1e-5);
    w.dispose();
  });
});

describe('space-time convolutions match OpenRetina (PyTorch)', () => {
  const paddings: [string, Padding3d][] = [
    ['p0', 0],
    ['p1', 1],
    ['same', 'same'],
    ['t101', [1, 0, 1]],
  ];
  for (const type of ['separable', 'full', 'time_independent'] as const) {
    for (const [padName, padding] of paddings) {
      it(`${type} with padding ${JSON.stringify(padding)}: state-dict keys/shapes and output`, () => {
        const prefix = `conv/${type}/${padName}`;
        const conv = createConvolution(type, {
          inChannels: 3,
          outChannels: 4,
          temporalKernelSize: 3,
          spatialKernelSize: 3,
          spatialKernelSize2: 2,
          padding,
          bias: true,
          logSpeedSessions: ['s1'],
          seed: 3,
        });
        const state = fxState(prefix);
        expect([...conv.stateDict()].map(([k, v]) => [k, v.shape])).toEqual([...state].map(([k, v]) => [k, v.shape]));
        conv.loadStateDict(state);
        const x = fxVideo('conv/x');
        const y = conv.forward(x);
        const ref = fx(`${prefix}/y`);
        expect([y.shape[0], y.shape[4], y.shape[1], y.shape[2], y.shape[3]]).toEqual(ref.shape);
        expect(conv.outputShape([5, 6, 5, 3])).toEqual([y.shape[1], y.shape[2], y.shape[3], 4]);
        close(toTorchLayout(y), ref.data, 1e-5);
        if (type === 'separable') {
          const ys = conv.forward(x, { session: 's1' });
          close(toTorchLayout(ys), fx(`${prefix}/y_s1`).data, 1e-5);
          ys.dispose();
        }
        tf.dispose([x, y]);
        conv.dispose();
      });
    }
  }
});

describe("the space-time separable conv's subsampling factor matches OpenRetina (PyTorch)", () => {
  // OpenRetina's test_convolutions: temporal kernel sizes 1 and 5 with subsampling_factor = min(size, 3); plus
  // other factors. Output with the default and a session's log-speed, and every gradient of sum(y · r).
  for (const [kt, ks, factor] of [
    [1, 1, 1],
    [1, 3, 1],
    [5, 3, 3],
    [5, 3, 2],
    [6, 3, 5],
  ] as const) {
    it(`temporal ${kt}, spatial ${ks}, factor ${factor}: ${Math.floor(kt / factor)} frequencies, output and gradients`, () => {
      const prefix = `conv/st_separable/t${kt}s${ks}f${factor}`;
      const conv = new SpaceTimeSeparableConv3d({
        inChannels: 2,
        outChannels: 5,
        temporalKernelSize: kt,
        spatialKernelSize: ks,
        subsamplingFactor: factor,
        bias: true,
        logSpeedSessions: ['s1'],
        seed: 1,
      });
      expect(conv.numFreqs).toBe(Math.floor(kt / factor));
      const state = fxState(prefix);
      expect([...conv.stateDict()].map(([k, v]) => [k, v.shape])).toEqual([...state].map(([k, v]) => [k, v.shape]));
      conv.loadStateDict(state);
      const x = fxVideo(`${prefix}/x`);
      const r = tf.tidy(() => tf.transpose(fxTensor(`${prefix}/r`), [0, 2, 3, 4, 1]));
      const before = tf.memory().numTensors;
      const y = conv.forward(x);
      close(toTorchLayout(y), fx(`${prefix}/y`).data, 1e-5);
      const params = [...conv.namedParameters()];
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(conv.forward(x, { session: 's1' }), r)) as tf.Scalar,
        params.map(([, v]) => v),
      );
      for (const [name, v] of params) close(grads[v.name]!.dataSync(), fx(`${prefix}/grad/${name}`).data, 1e-5);
      const gx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(conv.forward(input as tf.Tensor5D, { session: 's1' }), r)))(x);
      close(toTorchLayout(gx), fx(`${prefix}/grad_input`).data, 1e-5);
      tf.dispose([y, gx, value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, r]);
      conv.dispose();
    });
  }

  it('refuses a factor above the temporal kernel size or below 1, as OpenRetina raises', () => {
    const base = { inChannels: 2, outChannels: 5, temporalKernelSize: 1, spatialKernelSize: 3 };
    expect(() => new SpaceTimeSeparableConv3d(base)).toThrow(/temporal kernel size 1 is smaller than the subsampling factor 3/);
    expect(() => new SpaceTimeSeparableConv3d({ ...base, subsamplingFactor: 0 })).toThrow(ConfigError);
    expect(() => new SpaceTimeSeparableConv3d({ ...base, temporalKernelSize: 5, subsamplingFactor: 6 })).toThrow(ConfigError);
  });
});

describe('GRU, FiLM and nonlinearities match OpenRetina (PyTorch)', () => {
  for (const [name, cin, opts] of [
    ['pad', 3, {}],
    ['nopad', 3, { padInput: false }],
    ['groups', 4, { groups: 2 }],
  ] as const) {
    it(`GRU_Module (${name}): state dict, output and bias_l1`, () => {
      const m = new GRUModule({ inputChannels: cin, recChannels: 4, inputKern: 3, recKern: 3, ...opts });
      const state = fxState(`gru/${name}`);
      expect([...m.stateDict()].map(([k, v]) => [k, v.shape])).toEqual([...state].map(([k, v]) => [k, v.shape]));
      m.loadStateDict(state);
      const x = fxVideo(`gru/${name}/x`);
      const y = m.forward(x);
      close(toTorchLayout(y), fx(`gru/${name}/y`).data, 1e-5);
      const l1 = m.gru.biasL1();
      close(l1.dataSync(), fx(`gru/${name}/bias_l1`).data, 1e-6);
      tf.dispose([x, y, l1]);
      m.dispose();
    });
  }

  it('ConvGRUCell single step equals the first GRU_Module state', () => {
    const cell = new ConvGRUCell({ inputChannels: 3, recChannels: 4, inputKern: 3, recKern: 3 });
    const state = new Map([...fxState('gru/pad')].map(([k, v]) => [k.replace(/^gru\./, ''), v]));
    cell.loadStateDict(state);
    const x = fxVideo('gru/pad/x');
    const h = tf.tidy(() => cell.forward(tf.squeeze(tf.slice(x, [0, 0, 0, 0, 0], [-1, 1, -1, -1, -1]), [1]) as tf.Tensor4D));
    const ref = fx('gru/pad/y'); // (B, C, T, H, W): take t = 0
    const [B, C, T, H, W] = ref.shape as [number, number, number, number, number];
    const first: number[] = [];
    for (let b = 0; b < B; b++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) for (let c = 0; c < C; c++) first.push(ref.data[(((b * C + c) * T + 0) * H + i) * W + j]!);
    close(h.dataSync(), first, 1e-5);
    tf.dispose([x, h]);
    cell.dispose();
  });

  it('FiLM', () => {
    const film = new FiLM(4, 3);
    const state = fxState('film');
    expect([...film.stateDict()].map(([k, v]) => [k, v.shape])).toEqual([...state].map(([k, v]) => [k, v.shape]));
    film.loadStateDict(state);
    const x = fxVideo('film/x');
    const cond = fxTensor('film/cond');
    const y = film.forward(x, cond);
    close(toTorchLayout(y), fx('film/y').data, 1e-6);
    tf.dispose([x, cond, y]);
    film.dispose();
  });

  it('ParametrizedELU and ParametrizedSoftplus: outputs and parameter gradients', () => {
    const x = fxTensor('nonlin/x');
    const r = tf.reshape(tf.range(0, 15, 1, 'float32'), [3, 5]);
    const elu = new ParametrizedELU({ a: 1.3, b: 0.7, c: 0.9 });
    const sp = new ParametrizedSoftplus({ a: 1.5, b: 0.2, w: 0.8, learnA: true });
    for (const [name, m, keys] of [
      ['elu', elu, ['a', 'b', 'c']],
      ['softplus', sp, ['a', 'b', 'w']],
    ] as const) {
      const y = m.forward(x);
      close(y.dataSync(), fx(`nonlin/${name}/y`).data, 1e-6);
      const vars = keys.map((k) => m.namedParameters().get(k)!);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x), r)) as tf.Scalar, vars);
      keys.forEach((k, i) => close(grads[vars[i]!.name]!.dataSync(), fx(`nonlin/${name}/grad_${k}`).data, 1e-5));
      tf.dispose([y, value, ...Object.values(grads)]);
      m.dispose();
    }
    tf.dispose([x, r]);
  });
});
