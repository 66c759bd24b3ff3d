import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENRETINA_FIXTURES, ref, relativeError } from '@openretina/test-utils/fixtures';
import type { CoreReadout } from '@openretina/models';
import { coreReadoutFromCheckpointBytes } from '@openretina/hub';
import { refVideo } from '@openretina/test-utils/fixture-model';
import { exportOnnx, loadOnnxModel, readOnnxInfo, ONNX_OPSET } from '../src/node.js';

const TOL = 1e-5;

describe('ONNX export and onnxruntime-node inference', () => {
  let model: CoreReadout;
  beforeAll(async () => {
    // The backend comes from test-utils/backend-setup.ts (cpu, or wasm in the wasm project).
    model = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))));
  });
  afterAll(() => model.dispose());

  for (const convForm of ['gemm', 'depthwise', 'composed'] as const) {
    it(`exported graph (${convForm} convs) matches TF.js within 1e-5 for one session, all sessions and another length`, async () => {
      const bytes = exportOnnx(model, { session: 'session_2', convForm });
      const info = readOnnxInfo(bytes);
      expect(info.opset).toBe(ONNX_OPSET);
      expect(info.inputs).toEqual([{ name: 'stimulus', dims: ['batch', 2, 'time', 18, 16] }]);
      expect(info.outputs).toEqual([{ name: 'responses', dims: ['batch', 'time_out', 35] }]);
      const onnxModel = await loadOnnxModel(bytes);
      expect(onnxModel.sessions).toEqual(['session_2']);
      expect(onnxModel.framesCut).toBe(30);
      for (const name of ['input/x', 'input/x_T40']) {
        const x = refVideo(name);
        const expected = model.forward(x, { session: 'session_2' });
        const got = await onnxModel.predict(x);
        expect(got.shape).toEqual(expected.shape);
        expect(relativeError(got.dataSync(), expected.dataSync()), name).toBeLessThan(TOL);
        expect(
          relativeError(got.dataSync(), ref(name === 'input/x' ? 'eval/out/session_2' : 'eval/out_T40/session_2').data as Float32Array),
        ).toBeLessThan(TOL);
        tf.dispose([x, expected, got]);
      }
      onnxModel.dispose();
    });
  }

  it('exports all sessions concatenated; predict selects a session', async () => {
    const all = await loadOnnxModel(exportOnnx(model));
    expect(all.sessions).toEqual(['session_1', 'session_2', 'session_3']);
    expect(all.neuronsPerSession).toEqual({ session_1: 20, session_2: 35, session_3: 50 });
    const x = refVideo('input/x');
    const before = tf.memory().numTensors;
    const y = await all.predict(x);
    expect(y.shape).toEqual([2, 20, 105]);
    expect(relativeError(y.dataSync(), ref('eval/out/all_sessions_concat').data as Float32Array)).toBeLessThan(TOL);
    const y3 = await all.predict(x, { session: 'session_3' });
    expect(relativeError(y3.dataSync(), ref('eval/out/session_3').data as Float32Array)).toBeLessThan(TOL);
    tf.dispose([y, y3]);
    expect(tf.memory().numTensors).toBe(before);
    await expect(all.predict(x, { session: 'nope' })).rejects.toThrow(/Unknown session "nope"/);
    x.dispose();
    all.dispose();
  });

  it("runs OpenRetina's PyTorch-exported model_session_2.onnx and matches eval/out/session_2", async () => {
    const torchModel = await loadOnnxModel(join(OPENRETINA_FIXTURES, 'model_session_2.onnx'), { sessionName: 'session_2' });
    expect(torchModel.sessions).toEqual(['session_2']);
    expect(torchModel.neuronsPerSession).toEqual({ session_2: 35 });
    expect(torchModel.framesCut).toBe(30); // probed: the PyTorch graph has no metadata
    expect(torchModel.stimulus).toEqual({ channels: 2, height: 18, width: 16 });
    for (const [input, output] of [
      ['input/x', 'eval/out/session_2'],
      ['input/x_T40', 'eval/out_T40/session_2'],
    ] as const) {
      const x = refVideo(input);
      const y = await torchModel.predict(x);
      expect(relativeError(y.dataSync(), ref(output).data as Float32Array), input).toBeLessThan(TOL);
      tf.dispose([x, y]);
    }
    torchModel.dispose();
  });
});
