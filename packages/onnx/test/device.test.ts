import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@openretina/contracts';
import { OPENRETINA_FIXTURES } from '@openretina/test-utils/fixtures';
import { coreReadoutFromCheckpointBytes } from '@openretina/hub';
import {
  checkDevice,
  createEngine,
  executionProvidersFor,
  loadOnnxRuntimeNode,
  parseDevice,
  probeDevice,
  type OrtLike,
} from '../src/node.js';

/** An onnxruntime whose sessions fail to create on one provider, as onnxruntime-node does without the CUDA libraries. */
function ortWithout(provider: string, listed?: string[]): { ort: OrtLike; created: string[][] } {
  const created: string[][] = [];
  const ort = {
    Tensor: class {
      constructor(
        readonly type: string,
        readonly data: Float32Array,
        readonly dims: readonly number[],
      ) {}
    },
    InferenceSession: {
      create: async (_bytes: Uint8Array, options?: Record<string, unknown>) => {
        const eps = (options?.executionProviders as string[]) ?? ['cpu'];
        created.push(eps);
        if (eps[0] === provider) throw new Error(`${provider} execution provider is not available\nmore detail`);
        return {
          inputNames: ['x'],
          outputNames: ['y'],
          run: async (feeds: Record<string, { data: Float32Array }>) => ({
            y: { data: feeds.x!.data.map((v) => 2 * v), dims: [1, 4] },
          }),
        };
      },
    },
    ...(listed ? { listSupportedBackends: () => listed.map((name) => ({ name, bundled: true })) } : {}),
  } as unknown as OrtLike;
  return { ort, created };
}

describe('--device: the execution provider of the ONNX engine', () => {
  it('parses cpu, cuda and webgpu and refuses anything else', () => {
    expect(parseDevice(undefined)).toBe('cpu');
    expect(parseDevice('cuda')).toBe('cuda');
    expect(() => parseDevice('gpu')).toThrow(ConfigError);
    expect(() => parseDevice('gpu')).toThrow('--device must be cpu, cuda or webgpu, got "gpu".');
    expect(executionProvidersFor('cpu')).toEqual(['cpu']);
    expect(executionProvidersFor('cuda')).toEqual(['cuda', 'cpu']);
    expect(executionProvidersFor('webgpu')).toEqual(['webgpu', 'cpu']);
  });

  it('a provider that does not load is a ConfigError naming what the device needs', async () => {
    const { ort, created } = ortWithout('cuda');
    const probe = await probeDevice(ort, 'cuda');
    expect(probe).toEqual({ ok: false, reason: 'the cuda provider did not load (cuda execution provider is not available)' });
    expect(created).toEqual([['cuda']]); // probed alone, without the CPU fallback
    await expect(checkDevice(ort, 'cuda')).rejects.toThrow(ConfigError);
    await expect(checkDevice(ort, 'cuda')).rejects.toThrow(
      /^--device cuda: the cuda provider did not load .*CUDA 12 and cuDNN 9.*Use --device cpu\.$/,
    );
    expect(await probeDevice(ort, 'webgpu')).toEqual({ ok: true });
    await expect(checkDevice(ort, 'cpu')).resolves.toBeUndefined();
    const unlisted = ortWithout('none', ['cpu', 'webgpu']).ort;
    expect(await probeDevice(unlisted, 'cuda')).toEqual({
      ok: false,
      reason: 'this onnxruntime has no cuda provider (it lists cpu, webgpu)',
    });
  });

  describe('with onnxruntime-node', () => {
    let ort: OrtLike;
    beforeAll(async () => {
      ort = await loadOnnxRuntimeNode();
    });

    it('the CPU provider loads and computes the probe', async () => {
      expect(await probeDevice(ort, 'cpu')).toEqual({ ok: true });
    });

    it('createEngine takes the device as execution providers, and refuses a device for the TF.js engine', async () => {
      const model = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(join(OPENRETINA_FIXTURES, 'model.ckpt'))));
      const { ort: fake, created } = ortWithout('none');
      const engine = createEngine(model, 'onnx', fake, { device: 'webgpu' });
      expect(engine.name).toBe('onnx');
      const x = tf.zeros([1, 50, 18, 16, 2]) as tf.Tensor5D;
      await engine.predict(x, model.sessions[0]!).catch(() => undefined); // the fake runs no real graph
      expect(created[0]).toEqual(['webgpu', 'cpu']);
      x.dispose();
      engine.dispose();
      expect(() => createEngine(model, 'tfjs', ort, { device: 'cuda' })).toThrow(/^device "cuda" needs the ONNX engine/);
      expect(() => createEngine(model, 'auto', undefined, { device: 'cuda' })).toThrow(/^device "cuda" needs the ONNX engine/);
      expect(createEngine(model, 'auto', ort, { device: 'cpu' }).name).toBe('onnx');
      model.dispose();
    });
  });
});
