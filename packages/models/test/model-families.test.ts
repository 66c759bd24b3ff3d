import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { ConfigError, type ResponseModel, ShapeError, StateDictError, UnknownSessionError, UnsupportedError } from '@openretina/contracts';
import { REPO_ROOT } from '@openretina/test-utils/fixtures';
import {
  Autoencoder,
  AutoencoderWithModel,
  EnsembleModel,
  ResponseModelEnsemble,
  SingleCellSeparatedLNP,
  SingleCellSpatialContrast,
  SparsityMSELoss,
  SpatialContrastCoreReadout,
  cropBounds,
} from '../src/index.js';
import {
  expectNoLeak,
  gradCheck,
  keysAndShapes,
  familyRef,
  familyStateDict,
  familyTensor,
  familyVideo,
  relErr,
} from '@openretina/test-utils/model-families-reference';

const KEYS = JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures', 'models', 'model_families_state_dict_keys.json'), 'utf8')) as Record<
  string,
  [string, number[]][]
>;
const TOL = 1e-5;
const backends = (process.env.OPENRETINA_TEST_BACKENDS ?? 'cpu,wasm').split(',');

const data = (name: string): Float32Array => familyRef(name).data as Float32Array;
const scalar = (name: string): number => data(name)[0]!;

function lnpModel(): SingleCellSeparatedLNP {
  return new SingleCellSeparatedLNP({
    inShape: [2, 5, 6, 7],
    spatKernelSize: [6, 7],
    rank: 2,
    smoothWeightSpat: 0.5,
    smoothWeightTemp: 0.25,
    sparseWeight: 0.1,
    nonlinearity: 'parametrized_softplus',
    normalizeWeights: false,
    seed: 1,
  });
}
const lnpCrop = (seed = 2, normalizeWeights = true): SingleCellSeparatedLNP =>
  new SingleCellSeparatedLNP({
    inShape: [1, 4, 6, 7],
    rfLocation: [4, 5],
    spatKernelSize: [5, 5],
    nonlinearity: 'softplus',
    normalizeWeights,
    seed,
  });

function scSingle(crop: boolean): SingleCellSpatialContrast {
  const sd = familyStateDict('sc_single');
  return new SingleCellSpatialContrast({
    inShape: [1, 9, 5, 6],
    spatialFilter: sd.get('spatial_filter')!.data as Float32Array,
    temporalFilter: sd.get('temporal_filter')!.data as Float32Array,
    rfCenter: { centerX: 3, centerY: 2 },
    ...(crop ? { spatCropSize: [3, 4] as [number, number] } : { aInit: 2, bInit: 0.8, cInit: -0.5 }),
    wInit: 0.4,
  });
}

function scCoreReadout(): SpatialContrastCoreReadout {
  const sd = familyStateDict('sc_core_readout');
  const f = (k: string): Float32Array => sd.get(k)!.data as Float32Array;
  return new SpatialContrastCoreReadout({
    inShape: [1, 8, 5, 6],
    nNeuronsDict: { r2: 2, r1: 3 },
    spatialFiltersDict: { r2: f('readout.r2.spatial_filters'), r1: f('readout.r1.spatial_filters') },
    temporalFiltersDict: { r2: f('readout.r2.temporal_filters'), r1: f('readout.r1.temporal_filters') },
    wInit: 0.3,
    aInit: 3,
    bInit: 0.9,
    cInit: -1,
    neuronChunkSize: 2,
  });
}

for (const backend of backends) {
  describe(`Model families on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend as 'cpu' | 'wasm');
    });

    describe('SingleCellSeparatedLNP', () => {
      it('has OpenRetina state-dict keys and reproduces its output, regularizer and weight normalisation', () => {
        const m = lnpModel();
        expect(keysAndShapes(m)).toEqual(KEYS.lnp);
        expect(keysAndShapes(lnpCrop())).toEqual(KEYS.lnp_crop);
        m.loadStateDict(familyStateDict('lnp'));
        const x = familyVideo('lnp/input');
        const y = m.forward(x);
        expect(y.shape).toEqual([2, 5, 1]);
        expect(relErr(y.dataSync(), data('lnp/out'))).toBeLessThan(TOL);
        const reg = m.regularizer();
        expect(Math.abs(reg.dataSync()[0]! / scalar('lnp/regularizer') - 1)).toBeLessThan(TOL);
        const n = new SingleCellSeparatedLNP({ ...lnpOptions(), normalizeWeights: true });
        n.loadStateDict(familyStateDict('lnp'));
        const yn = n.forward(x);
        expect(relErr(yn.dataSync(), data('lnp/out_normalized'))).toBeLessThan(TOL);
        expect(relErr(n.spaceWeight.dataSync(), data('lnp/space_weight_normalized'))).toBeLessThan(TOL);
        expect(relErr(n.timeWeight.dataSync(), data('lnp/time_weight_normalized'))).toBeLessThan(TOL);
        expect(m.framesCut).toBe(4);
        tf.dispose([x, y, reg, yn]);
        m.dispose();
        n.dispose();
      });

      it('crops boundary-safely around the RF like crop_input, also inside forward', () => {
        const m = lnpCrop();
        const x = familyVideo('lnp_crop/input');
        const c = m.cropInput(x);
        expect(c.shape).toEqual([1, 6, 4, 4, 1]); // rows 2..6, cols 3..7 clipped at the border
        const ref = familyVideo('lnp_crop/cropped');
        expect(c.shape).toEqual(ref.shape);
        expect(relErr(c.dataSync(), ref.dataSync())).toBe(0);
        expect(() => m.forward(x)).toThrow(ShapeError); // 4×4 after clipping: not the 5×5 kernel (PyTorch fails too)
        const centred = new SingleCellSeparatedLNP({ inShape: [1, 4, 9, 9], spatKernelSize: [5, 5], nonlinearity: 'softplus', seed: 3 });
        const xf = tf.randomNormal([2, 6, 9, 9, 1], 0, 1, 'float32', 7) as tf.Tensor5D;
        const a = centred.forward(xf);
        const b = centred.forward(centred.cropInput(xf));
        expect(a.shape).toEqual([2, 3, 1]);
        expect(relErr(a.dataSync(), b.dataSync())).toBeLessThan(1e-6); // both forwards renormalise the weights
        tf.dispose([x, c, ref, xf, a, b]);
        m.dispose();
        centred.dispose();
      });

      it('finite-difference gradients, state-dict round trip, memory, errors', () => {
        const m = lnpModel();
        m.loadStateDict(familyStateDict('lnp'));
        const x = familyVideo('lnp/input');
        const f = (): tf.Tensor => tf.tidy(() => tf.concat([tf.reshape(m.forward(x), [-1]), tf.reshape(m.regularizer(), [1])]));
        gradCheck(f, Object.fromEntries(m.trainableParameters()));
        const xv = tf.variable(x);
        gradCheck(() => m.forward(xv as unknown as tf.Tensor5D), { input: xv }, { h: 3e-2 });
        const b = lnpModel();
        b.loadStateDict(m.stateDict());
        const ya = m.forward(x);
        const yb = b.forward(x);
        expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
        expectNoLeak(() => tf.tidy(() => tf.add(tf.sum(m.forward(x)), m.regularizer())), [...m.trainableParameters().values()]);
        const n = new SingleCellSeparatedLNP({ ...lnpOptions(), normalizeWeights: true });
        expectNoLeak(() => n.forward(x), [...n.trainableParameters().values()]);
        const target = tf.ones([2, 9, 1]) as tf.Tensor3D;
        const parts = m.loss(x, target);
        expect(parts.total.dataSync()[0]).toBeCloseTo(parts.data.dataSync()[0]! + parts.regularizers.core.dataSync()[0]!, 4);
        expect(() => m.forward(tf.zeros([1, 9, 6, 7, 1]) as tf.Tensor5D)).toThrow(ShapeError);
        expect(() => m.forward(tf.zeros([1, 4, 6, 7, 2]) as tf.Tensor5D)).toThrow(/at least 5 frames/);
        expect(() => new SingleCellSeparatedLNP({ inShape: [1, 4, 5, 5], nonlinearity: 'swish' as never })).toThrow(ConfigError);
        const bad = m.stateDict();
        bad.delete('space_conv.weight');
        expect(() => b.loadStateDict(bad)).toThrow(StateDictError);
        tf.dispose([x, xv, ya, yb, target, parts.total, parts.data, parts.regularizers.core]);
        for (const mm of [m, b, n]) mm.dispose();
      });
    });

    describe('SingleCellSpatialContrast', () => {
      it('reproduces OpenRetina (with and without the RF crop)', () => {
        const m = scSingle(false);
        expect(keysAndShapes(m)).toEqual(KEYS.sc_single);
        const x = familyVideo('sc_single/input');
        const y = m.forward(x);
        expect(y.shape).toEqual([2, 6, 1]);
        expect(relErr(y.dataSync(), data('sc_single/out'))).toBeLessThan(TOL);
        const c = scSingle(true);
        expect(keysAndShapes(c)).toEqual(KEYS.sc_single_crop);
        expect(c.cropBounds).toEqual(cropBounds([5, 6], [3, 4], [2, 3]));
        for (const [k, v] of c.stateDict()) {
          expect(relErr(v.data as Float32Array, data(`sc_single_crop/state/${k}`)), k).toBeLessThan(1e-6);
        }
        const yc = c.forward(x);
        expect(relErr(yc.dataSync(), data('sc_single_crop/out'))).toBeLessThan(TOL);
        tf.dispose([x, y, yc]);
        m.dispose();
        c.dispose();
      });

      it('gradients, round trip, clamping, loss, memory and errors', () => {
        const m = scSingle(true);
        tf.tidy(() => m.w.assign(tf.scalar(0.7)));
        const x = familyVideo('sc_single/input');
        gradCheck(() => m.forward(x), Object.fromEntries(m.trainableParameters()));
        const xv = tf.variable(x);
        gradCheck(() => m.forward(xv as unknown as tf.Tensor5D), { input: xv }, { h: 3e-2 });
        const b = scSingle(false);
        expect(() => b.loadStateDict(m.stateDict())).toThrow(StateDictError); // cropped filter: other shape
        const b2 = scSingle(true);
        b2.loadStateDict(m.stateDict());
        const [ya, yb] = [m.forward(x), b2.forward(x)];
        expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
        tf.tidy(() => m.w.assign(tf.scalar(-0.5)));
        m.clampParameters();
        expect(m.w.dataSync()[0]).toBe(0);
        const target = tf.ones([2, 9, 1]) as tf.Tensor3D;
        const parts = m.loss(x, target);
        expect(parts.regularizers).toEqual({});
        const loss = parts.total;
        expect(loss.dataSync()[0]).toBe(parts.data.dataSync()[0]);
        const out = m.forward(x);
        const manual = tf.tidy(() =>
          tf.div(tf.mean(tf.sub(out, tf.mul(tf.slice(target, [0, 3, 0], [-1, -1, -1]), tf.log(tf.add(out, 1e-16))))), out.size),
        );
        expect(loss.dataSync()[0]).toBeCloseTo(manual.dataSync()[0]!, 6);
        expectNoLeak(() => m.forward(x), [...m.trainableParameters().values()]);
        expect(() => m.forward(tf.zeros([1, 9, 5, 6, 2]) as tf.Tensor5D)).toThrow(ShapeError);
        expect(
          () => new SingleCellSpatialContrast({ inShape: [2, 9, 5, 6], spatialFilter: new Float32Array(30), temporalFilter: [1] }),
        ).toThrow(ConfigError);
        expect(
          () => new SingleCellSpatialContrast({ inShape: [1, 9, 5, 6], spatialFilter: new Float32Array(29), temporalFilter: [1] }),
        ).toThrow(ShapeError);
        tf.dispose([x, xv, ya, yb, target, loss, parts.data, out, manual]);
        for (const mm of [m, b, b2]) mm.dispose();
      });
    });

    describe('SpatialContrastCoreReadout', () => {
      it('has OpenRetina keys and reproduces every session', () => {
        const m = scCoreReadout();
        expect(keysAndShapes(m)).toEqual(KEYS.sc_core_readout);
        m.loadStateDict(familyStateDict('sc_core_readout'));
        const x = familyVideo('sc_core_readout/input');
        for (const s of ['r1', 'r2']) {
          const y = m.forward(x, { session: s });
          expect(relErr(y.dataSync(), data(`sc_core_readout/out_${s}`)), s).toBeLessThan(TOL);
          y.dispose();
        }
        const all = m.forward(x);
        expect(all.shape).toEqual([2, 6, 5]);
        expect(m.sessions).toEqual(['r1', 'r2']);
        expect(() => m.forward(x, { session: 'r3' })).toThrow(UnknownSessionError);
        tf.dispose([x, all]);
        m.dispose();
      });

      it('mean Poisson loss, nl_a clamping, gradients and memory', () => {
        const m = scCoreReadout();
        m.loadStateDict(familyStateDict('sc_core_readout'));
        const x = familyVideo('sc_core_readout/input');
        const y = tf.ones([2, 8, 3]) as tf.Tensor3D;
        const parts = m.loss(x, y, 'r1');
        const out = m.forward(x, { session: 'r1' });
        const manual = tf.tidy(() => tf.mean(tf.sub(out, tf.mul(tf.slice(y, [0, 2, 0], [-1, -1, -1]), tf.log(tf.add(out, 1e-16))))));
        expect(parts.total.dataSync()[0]).toBeCloseTo(manual.dataSync()[0]!, 5);
        gradCheck(() => m.forward(x, { session: 'r1' }), Object.fromEntries(m.trainableParameters()));
        const nlA = m.trainableParameters().get('readout.r2.nl_a')!;
        tf.tidy(() => nlA.assign(tf.tensor1d([-1, 2])));
        m.clampParameters();
        expect(Array.from(nlA.dataSync())).toEqual([0, 2]);
        expectNoLeak(() => m.forward(x, { session: 'r2' }), [...m.trainableParameters().values()]);
        tf.dispose([x, y, parts.total, parts.data, parts.regularizers.core, parts.regularizers.readout, out, manual]);
        m.dispose();
      });
    });

    describe('sparse autoencoder', () => {
      it('reproduces encode, decode, the losses and the projected decoder gradient', () => {
        const ae = new Autoencoder({ inputDim: 5, hiddenDim: 7, loss: new SparsityMSELoss(0.3), seed: 1 });
        expect(keysAndShapes(ae)).toEqual(KEYS.autoencoder);
        ae.loadStateDict(familyStateDict('autoencoder'));
        const x = familyTensor('autoencoder/input');
        const z = ae.encode(x);
        const xh = ae.decode(z);
        expect(relErr(z.dataSync(), data('autoencoder/z'))).toBeLessThan(TOL);
        expect(relErr(xh.dataSync(), data('autoencoder/x_hat'))).toBeLessThan(TOL);
        const parts = ae.stepLoss(x);
        expect(Math.abs(parts.total.dataSync()[0]! / scalar('autoencoder/loss_total') - 1)).toBeLessThan(TOL);
        expect(Math.abs(parts.mse.dataSync()[0]! / scalar('autoencoder/loss_mse') - 1)).toBeLessThan(TOL);
        expect(Math.abs(parts.sparsity.dataSync()[0]! / scalar('autoencoder/loss_sparsity') - 1)).toBeLessThan(TOL);
        const { grads, value } = tf.variableGrads(() => ae.stepLoss(x).total, [ae.decoder.weight]);
        const projected = ae.projectDecoderGradient(grads[ae.decoder.weight.name]!);
        expect(relErr(projected.dataSync(), data('autoencoder/decoder_grad_projected'))).toBeLessThan(1e-4);
        const nd = ae.decoderNormDiffFromUnitNorm();
        expect(Math.abs(nd.dataSync()[0]! / scalar('autoencoder/decoder_norm_diff') - 1)).toBeLessThan(TOL);
        ae.normalizeDecoder();
        const nd2 = ae.decoderNormDiffFromUnitNorm();
        expect(nd2.dataSync()[0]).toBeLessThan(1e-5);
        expect(ae.fractionNeuronsBelowThreshold([0, 0.05, 0.2, 1, 0, 3, 0.1], 0.1)).toBeCloseTo(4 / 7);
        tf.dispose([
          x,
          z,
          xh,
          parts.total,
          parts.mse,
          parts.sparsity,
          parts.activeNeurons,
          parts.decoderNormDiff,
          value,
          projected,
          nd,
          nd2,
        ]);
        tf.dispose(Object.values(grads));
        ae.dispose();
      });

      it('gradients, round trip, memory; AutoencoderWithModel encodes all sessions', () => {
        const ae = new Autoencoder({ inputDim: 5, hiddenDim: 7, loss: new SparsityMSELoss(0.3), seed: 1 });
        ae.loadStateDict(familyStateDict('autoencoder'));
        const x = familyTensor('autoencoder/input');
        // Examples whose encoder pre-activations stay clear of the ReLU kink under the finite-difference steps.
        const xs = tf.tidy(() => {
          const cand = tf.randomNormal([40, 5], 0, 1, 'float32', 17);
          const pre = ae.encoder.forward(tf.sub(cand, ae.bias));
          const margin = tf.min(tf.abs(pre), 1).dataSync();
          const keep = Array.from(margin, (m, i) => (m > 0.08 ? i : -1)).filter((i) => i >= 0);
          return tf.gather(cand, keep);
        });
        expect(xs.shape[0]).toBeGreaterThan(3);
        gradCheck(() => tf.tidy(() => tf.reshape(ae.stepLoss(xs).total, [1])), Object.fromEntries(ae.trainableParameters()));
        xs.dispose();
        const b = new Autoencoder({ inputDim: 5, hiddenDim: 7, loss: new SparsityMSELoss(0.3), seed: 9 });
        b.loadStateDict(ae.stateDict());
        const [ya, yb] = [ae.forward(x), b.forward(x)];
        expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
        expectNoLeak(() => tf.tidy(() => ae.stepLoss(x).total), [...ae.trainableParameters().values()]);
        expect(() => ae.encode(tf.zeros([2, 4]))).toThrow(ShapeError);

        const model = scCoreReadout();
        model.loadStateDict(familyStateDict('sc_core_readout'));
        const both = new AutoencoderWithModel(model, b);
        const v = familyVideo('sc_core_readout/input');
        const h = both.forward(v);
        expect(h.shape).toEqual([2, 6, 7]);
        const all = model.forward(v); // sorted sessions r1, r2 concatenated
        const ref = b.encode(all);
        expect(Array.from(h.dataSync())).toEqual(Array.from(ref.dataSync()));
        expect([...both.stateDict().keys()].every((k) => k.startsWith('model.readout.') || k.startsWith('autoencoder.'))).toBe(true);
        tf.dispose([x, ya, yb, v, h, all, ref]);
        ae.dispose();
        both.dispose();
      });
    });

    describe('EnsembleModel', () => {
      it('averages its members, with PyTorch keys members.<i>.*', () => {
        // Without the in-place weight normalisation, which a finite-difference probe would undo.
        const [a, b] = [lnpCrop(2, false), lnpCrop(3, false)];
        const e = new EnsembleModel([a, b]);
        expect(keysAndShapes(e)).toEqual(KEYS.ensemble_lnp);
        expect(e.sessions).toEqual(['default']);
        expect(e.framesCut).toBe(3);
        const x = tf.randomNormal([2, 6, 5, 5, 1], 0, 1, 'float32', 7) as tf.Tensor5D;
        const [ya, yb, ye] = [a.forward(x), b.forward(x), e.forward(x)];
        const mean = tf.div(tf.add(ya, yb), 2);
        expect(relErr(ye.dataSync(), mean.dataSync())).toBeLessThan(1e-6);
        const xv = tf.variable(x);
        gradCheck(() => e.forward(xv as unknown as tf.Tensor5D), Object.fromEntries([...e.trainableParameters()].slice(0, 2)));
        expectNoLeak(() => e.forward(x), [...e.trainableParameters().values()]);
        const e2 = new EnsembleModel([lnpCrop(7, false), lnpCrop(8, false)]);
        e2.loadStateDict(e.stateDict());
        const y2 = e2.forward(x);
        expect(Array.from(y2.dataSync())).toEqual(Array.from(ye.dataSync()));
        expect(() => new EnsembleModel([lnpCrop(), lnpModel()])).toThrow(ConfigError);
        expect(() => new EnsembleModel([])).toThrow(ConfigError);
        tf.dispose([x, ya, yb, ye, mean, xv, y2]);
        e.dispose();
        e2.dispose();
      });

      it('works on core-readout members with sessions', async () => {
        const [a, b] = [scCoreReadout(), scCoreReadout()];
        const e = new EnsembleModel([a, b]);
        expect(e.neuronsPerSession).toEqual({ r2: 2, r1: 3 });
        const x = familyVideo('sc_core_readout/input');
        const y = await e.predict(x, { session: 'r1' });
        const ya = a.forward(x, { session: 'r1' });
        expect(relErr(y.dataSync(), ya.dataSync())).toBeLessThan(1e-6);
        expect(() => e.forward(x, { session: 'zz' })).toThrow(UnknownSessionError);
        tf.dispose([x, y, ya]);
        e.dispose();
      });
    });

    describe('ResponseModelEnsemble', () => {
      it('averages the predictions of any response models; forward only when every member has one', async () => {
        const [a, b] = [lnpCrop(2, false), lnpCrop(3, false)];
        // a member with predict() alone, as an ONNX model is
        let disposed = 0;
        const predictOnly: ResponseModel = {
          specificationVersion: b.specificationVersion,
          sessions: b.sessions,
          neuronsPerSession: b.neuronsPerSession,
          stimulus: b.stimulus,
          framesCut: b.framesCut,
          stimulusShape: (frames, batch) => b.stimulusShape(frames, batch),
          predict: (x, o) => b.predict(x, o),
          dispose: () => {
            disposed++;
            b.dispose();
          },
        };
        const e = new ResponseModelEnsemble([a, predictOnly]);
        const x = tf.randomNormal([2, 6, 5, 5, 1], 0, 1, 'float32', 7) as tf.Tensor5D;
        const [ya, yb] = [a.forward(x), b.forward(x)];
        const mean = tf.div(tf.add(ya, yb), 2);
        const before = tf.memory().numTensors;
        const y = await e.predict(x);
        expect(tf.memory().numTensors).toBe(before + 1); // the result only
        expect(relErr(y.dataSync(), mean.dataSync())).toBeLessThan(1e-6);
        expect(() => e.forward(x)).toThrow(UnsupportedError);
        const tfOnly = new ResponseModelEnsemble([a, b]);
        const yf = tfOnly.forward(x);
        expect(relErr(yf.dataSync(), mean.dataSync())).toBeLessThan(1e-6);
        expect(() => new ResponseModelEnsemble([a, lnpModel()])).toThrow(/Ensemble member 1 does not match member 0/);
        expect(() => new ResponseModelEnsemble([])).toThrow(ConfigError);
        tf.dispose([x, ya, yb, mean, y, yf]);
        const aWeight = [...a.trainableParameters().values()][0]!;
        e.dispose();
        expect([aWeight.isDisposed, disposed]).toEqual([true, 1]);
      });
    });
  });
}

function lnpOptions() {
  return {
    inShape: [2, 5, 6, 7] as [number, number, number, number],
    spatKernelSize: [6, 7] as [number, number],
    rank: 2,
    smoothWeightSpat: 0.5,
    smoothWeightTemp: 0.25,
    sparseWeight: 0.1,
    nonlinearity: 'parametrized_softplus' as const,
    seed: 1,
  };
}
