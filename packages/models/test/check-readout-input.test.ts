// CoreReadout.checkReadoutInput: what lays a readout's weights out against the core's output (the ONNX engine and
// export, WasmPredictor) asks it first, so a readout built for other features gets a clear error there.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@openretina/backend';
import { ShapeError, UnknownSessionError, type MultiReadout } from '@openretina/contracts';
import { MultiGaussianMaskReadout, MultiSampledGaussianReadout } from '@openretina/readout';
import { FIXTURE_MODEL } from '@openretina/test-utils/fixtures';
import { buildFixtureModel } from '@openretina/test-utils/fixture-model';
import { CoreReadout } from '../src/index.js';

describe('CoreReadout.checkReadoutInput', () => {
  let fixture: ReturnType<typeof buildFixtureModel>; // its core gives 16 channels of 8 × 6 for 18 × 16 frames
  const readouts: MultiReadout[] = [];
  /** The fixture's core with `readout` (the readout is disposed after the tests, the core with the fixture). */
  const withReadout = (readout: MultiReadout): CoreReadout => {
    readouts.push(readout);
    return new CoreReadout({ core: fixture.core, readout, inputShape: FIXTURE_MODEL.inputShape });
  };
  beforeAll(async () => {
    await initBackend('cpu');
    fixture = buildFixtureModel();
  });
  afterAll(() => {
    for (const r of readouts) r.dispose();
    fixture.dispose();
  });

  it('passes every session of the OpenRetina fixture model, creating no tensor', () => {
    const before = tf.memory().numTensors;
    for (const s of fixture.sessions) fixture.checkReadoutInput(s);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names what the readout reads and what the core gives when the positions or the channels differ', () => {
    const positions = withReadout(new MultiGaussianMaskReadout({ inShape: [16, 30, 7, 6], nNeuronsDict: { a: 3 }, seed: 2 }));
    expect(() => positions.checkReadoutInput('a')).toThrow(ShapeError);
    expect(() => positions.checkReadoutInput('a')).toThrow(
      'The readout of session a reads 16 channels of 7×6, but the core gives 16 of 8×6.',
    );
    const channels = withReadout(new MultiGaussianMaskReadout({ inShape: [8, 30, 8, 6], nNeuronsDict: { b: 3 }, seed: 2 }));
    expect(() => channels.checkReadoutInput('b')).toThrow(
      'The readout of session b reads 8 channels of 8×6, but the core gives 16 of 8×6.',
    );
  });

  it("reaches a third-party readout's declared size through the contract's optional readout(session)", () => {
    // plain objects, no base class of ours: the per-session readout of MultiReadout.readout, or none
    const gaussian = new MultiGaussianMaskReadout({ inShape: [16, 30, 8, 6], nNeuronsDict: { a: 3 }, seed: 2 });
    readouts.push(gaussian);
    const plain = (readout: MultiReadout['readout'], inShape?: readonly [number, number, number, number]): MultiReadout => {
      const perSession = readout ? (s: string) => Object.assign(Object.create(readout(s)), inShape ? { inShape } : {}) : undefined;
      // everything else is the Gaussian readout's, called on it
      return new Proxy(gaussian, {
        get: (target, key) => {
          if (key === 'readout') return perSession;
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    const model = (r: MultiReadout) => new CoreReadout({ core: fixture.core, readout: r, inputShape: FIXTURE_MODEL.inputShape });
    expect(() => model(plain(gaussian.readout.bind(gaussian))).checkReadoutInput('a')).not.toThrow();
    expect(() => model(plain(gaussian.readout.bind(gaussian), [16, 30, 9, 6])).checkReadoutInput('a')).toThrow(
      'The readout of session a reads 16 channels of 9×6, but the core gives 16 of 8×6.',
    );
    // without readout(session) nothing declares a size: it passes, and the session is still checked
    expect(() => model(plain(undefined)).checkReadoutInput('a')).not.toThrow();
    expect(() => model(plain(undefined)).checkReadoutInput('z')).toThrow(UnknownSessionError);
  });

  it("checks a cloned session's readout by its source's shape, and refuses an unknown session", () => {
    // point-Gaussian readouts whose session b clones session a's
    const cloned = withReadout(
      new MultiSampledGaussianReadout({ inShape: [16, 30, 8, 5], nNeuronsDict: { a: 3, b: 3 }, cloneReadout: true, seed: 2 }),
    );
    expect(() => cloned.checkReadoutInput('b')).toThrow('The readout of session b reads 16 channels of 8×5, but the core gives 16 of 8×6.');
    expect(() => cloned.checkReadoutInput('c')).toThrow(UnknownSessionError);
  });
});
