import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { ref, refScalar, relativeError, ndhwcToNcdhw } from '@openretina/test-utils/fixtures';
import { buildFixtureModel, refVideo } from '@openretina/test-utils/fixture-model';

const TOL = 1e-5;
const backends = (process.env.OPENRETINA_TEST_BACKENDS ?? 'cpu,wasm').split(',');

for (const backend of backends) {
  describe(`OpenRetina fixture parity on ${backend}`, () => {
    let model: ReturnType<typeof buildFixtureModel>;
    beforeAll(async () => {
      await initBackend(backend as 'cpu' | 'wasm');
      model = buildFixtureModel();
    });
    afterAll(() => model.dispose());

    it('reproduces every eval intermediate, per-session output and the concatenated output', () => {
      model.eval();
      const x = refVideo('input/x');
      const taps = new Map<string, Float32Array>();
      const names: Record<string, string> = { conv: 'conv_out', norm: 'bn_out', nonlin: 'out' };
      const before = tf.memory().numTensors;
      const out = model.forward(x, {
        session: 'session_2',
        tap: (name, t) => {
          const [layer, part] = name.split('.');
          if (layer && part && names[part]) taps.set(`eval/core/${layer}/${names[part]}`, ndhwcToNcdhw(t.dataSync(), t.shape));
          if (name === 'core') taps.set('eval/core/out', ndhwcToNcdhw(t.dataSync(), t.shape));
        },
      });
      for (const [name, data] of taps) {
        expect(relativeError(data, ref(name).data as Float32Array), name).toBeLessThan(TOL);
      }
      expect(taps.size).toBe(7);
      expect(relativeError(out.dataSync(), ref('eval/out/session_2').data as Float32Array)).toBeLessThan(TOL);
      out.dispose();
      for (const s of ['session_1', 'session_3']) {
        const y = model.forward(x, { session: s });
        expect(relativeError(y.dataSync(), ref(`eval/out/${s}`).data as Float32Array), s).toBeLessThan(TOL);
        y.dispose();
      }
      const all = model.forward(x);
      expect(all.shape).toEqual([2, 20, 105]);
      expect(relativeError(all.dataSync(), ref('eval/out/all_sessions_concat').data as Float32Array)).toBeLessThan(TOL);
      all.dispose();
      x.dispose();
      const x40 = refVideo('input/x_T40');
      const y40 = model.forward(x40, { session: 'session_2' });
      expect(y40.shape).toEqual([1, 10, 35]);
      expect(relativeError(y40.dataSync(), ref('eval/out_T40/session_2').data as Float32Array)).toBeLessThan(TOL);
      tf.dispose([x40, y40]);
      expect(tf.memory().numTensors).toBe(before - 1);
    });

    it('matches the training-mode loss, regularizers, gradients and BatchNorm running stats', () => {
      const fresh = buildFixtureModel();
      fresh.train();
      const x = refVideo('input/x');
      const y = tf.tensor3d(ref('train/targets/session_2').data as Float32Array, [2, 50, 35]);
      const params = fresh.trainableParameters();
      const before = tf.memory().numTensors;
      let parts: Record<string, number> = {};
      const { value, grads } = tf.variableGrads(() => {
        const p = fresh.loss(x, y, 'session_2');
        parts = {
          poisson: p.data.dataSync()[0]!,
          core: p.regularizers.core.dataSync()[0]!,
          readout: p.regularizers.readout.dataSync()[0]!,
        };
        return p.total;
      }, [...params.values()]);
      expect(parts.poisson! / refScalar('train/poisson_loss_sum') - 1).toBeLessThan(TOL);
      expect(Math.abs(parts.core! / refScalar('train/regularization_loss_core') - 1)).toBeLessThan(TOL);
      expect(Math.abs(parts.readout! / refScalar('train/regularization_loss_readout') - 1)).toBeLessThan(TOL);
      expect(Math.abs(value.dataSync()[0]! / refScalar('train/total_loss') - 1)).toBeLessThan(TOL);
      const byId = new Map([...params].map(([name, v]) => [v.name, name]));
      let withGrad = 0;
      for (const [varName, g] of Object.entries(grads)) {
        const name = byId.get(varName)!;
        const data = g.dataSync();
        if (name.startsWith('readout.session_1') || name.startsWith('readout.session_3')) {
          expect(Math.max(...Array.from(data, Math.abs)), `${name} gets no gradient`).toBe(0);
          continue;
        }
        withGrad++;
        expect(relativeError(data, ref(`train/grad/${name}`).data as Float32Array), name).toBeLessThan(TOL);
      }
      expect(withGrad).toBe(17);
      for (const layer of ['layer0', 'layer1']) {
        const sd = fresh.stateDict();
        for (const stat of ['running_mean', 'running_var']) {
          const entry = sd.get(`core.features.${layer}.norm.${stat}`)!;
          expect(
            relativeError(entry.data as Float32Array, ref(`train/bn_after_forward/${layer}/${stat}`).data as Float32Array),
          ).toBeLessThan(TOL);
        }
        expect(Number((sd.get(`core.features.${layer}.norm.num_batches_tracked`)!.data as BigInt64Array)[0])).toBe(10);
      }
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y]);
      fresh.dispose();
    });

    it('matches the input gradient of the MEI objective', () => {
      model.eval();
      const x = refVideo('mei/stimulus_init');
      const before = tf.memory().numTensors;
      const grad = tf.grad((s: tf.Tensor) => {
        const out = model.forward(s as tf.Tensor5D, { session: 'session_2' });
        // OpenRetina's IncreaseObjective + SliceMeanReducer(axis 0, frames 10–19) for neuron 7.
        return tf.mean(tf.slice(out, [0, 10, 7], [1, 10, 1]));
      })(x);
      const expected = ref('mei/objective_grad_init').data as Float32Array;
      expect(relativeError(ndhwcToNcdhw(grad.dataSync(), grad.shape), expected)).toBeLessThan(TOL);
      grad.dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  });
}
