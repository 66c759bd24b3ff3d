/** initBackend / currentBackend: selection, reasons, errors and the OPENRETINA_BACKEND override. */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError, isOpenRetinaError } from '@openretina/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKEND_ENV_VAR, currentBackend, initBackend } from '../src/index.js';

const savedEnv = process.env[BACKEND_ENV_VAR];
beforeEach(() => {
  delete process.env[BACKEND_ENV_VAR];
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env[BACKEND_ENV_VAR];
  else process.env[BACKEND_ENV_VAR] = savedEnv;
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('initBackend', () => {
  it("'auto' picks wasm here, saying that tfjs-node(-gpu) are not installed", async () => {
    expect(currentBackend()).toBeNull();
    const info = await initBackend();
    expect(info.name).toBe('wasm');
    expect(info.kind).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.reason).toMatch(/tfjs-node-gpu not installed/);
    expect(info.reason).toMatch(/tfjs-node not installed/);
    expect(info.reason).toMatch(/using wasm \((no )?SIMD/);
    expect(currentBackend()).toEqual(info);
    console.log(`initBackend('auto') -> ${info.name}: ${info.reason}`);
  });

  it.each(['tensorflow', 'tensorflow-gpu'] as const)("'%s' throws a BackendError naming the kind and the cause", async (kind) => {
    const err = await rejection(initBackend(kind));
    expect(err).toBeInstanceOf(BackendError);
    expect(isOpenRetinaError(err, 'OPENRETINA_BACKEND')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain(`'${kind}'`);
    expect(message).toMatch(/not installed/);
    expect((err as BackendError).details.kind).toBe(kind);
    expect((err as Error).cause).toBeDefined();
  });

  it("'cpu' works", async () => {
    const info = await initBackend('cpu');
    expect(info).toMatchObject({ name: 'cpu', kind: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]).toBe(6);
  });

  it("'wasm' works and can be re-initialised", async () => {
    const info = await initBackend('wasm');
    expect(info).toMatchObject({ name: 'wasm', kind: 'wasm' });
    expect((await initBackend('wasm')).name).toBe('wasm');
  });

  it(`${BACKEND_ENV_VAR} overrides 'auto' (and only 'auto')`, async () => {
    process.env[BACKEND_ENV_VAR] = 'cpu';
    const info = await initBackend('auto');
    expect(info.name).toBe('cpu');
    expect(info.reason).toContain(`${BACKEND_ENV_VAR}=cpu`);
    expect((await initBackend('wasm')).name).toBe('wasm');

    process.env[BACKEND_ENV_VAR] = 'tensorflow';
    expect(await rejection(initBackend())).toBeInstanceOf(BackendError);

    process.env[BACKEND_ENV_VAR] = 'gpu-please';
    const err = await rejection(initBackend());
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toContain(BACKEND_ENV_VAR);
  });

  it('rejects an unknown kind', async () => {
    expect(await rejection(initBackend('webgl' as 'cpu'))).toBeInstanceOf(BackendError);
  });

  it('currentBackend() reports a backend set outside initBackend', async () => {
    await initBackend('wasm');
    await tf.setBackend('cpu');
    expect(currentBackend()).toMatchObject({ name: 'cpu', kind: 'cpu' });
    expect(currentBackend()?.reason).toMatch(/outside initBackend/);
  });
});
