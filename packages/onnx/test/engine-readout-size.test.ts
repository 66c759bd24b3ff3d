// The ONNX engine lays a readout's weights out against the core's output, so it must refuse a readout built for other
// features by name (not with an ONNX Runtime shape error from inside a graph); `auto` then takes TF.js.
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, UnsupportedError } from '@openretina/contracts';
import { CoreReadout, TfjsEngine } from '@openretina/models';
import { MultiGaussianMaskReadout } from '@openretina/readout';
import { OnnxEngine, createEngine, exportOnnx, loadOnnxRuntimeNode, type OrtLike } from '../src/node.js';
import { buildSmallModel } from './small-model.js';

describe('OnnxEngine and a readout it cannot lay out against the core', () => {
  let ort: OrtLike;
  beforeAll(async () => {
    ort = await loadOnnxRuntimeNode();
  });

  it('is refused with what the readout reads and what the core gives; auto falls back to TF.js', () => {
    const base = buildSmallModel({ a: 3 });
    // the small model's core gives 4 channels of 9 × 6; this readout reads 4 of 8 × 6
    const readout = new MultiGaussianMaskReadout({ inShape: [4, 14, 8, 6], nNeuronsDict: { a: 3 }, scale: true, bias: true });
    const odd = new CoreReadout({ core: base.core, readout, inputShape: [2, 9, 8] });
    const message = 'The readout of session a reads 4 channels of 8×6, but the core gives 4 of 9×6.';
    expect(OnnxEngine.supports(odd)).toEqual({ ok: false, reason: expect.stringContaining(message) });
    expect(() => createEngine(odd, 'onnx', ort)).toThrow(ConfigError);
    expect(() => createEngine(odd, 'onnx', ort)).toThrow(message);
    expect(() => new OnnxEngine(odd, { ort })).toThrow(message);
    expect(createEngine(odd, 'auto', ort)).toBeInstanceOf(TfjsEngine);
    expect(OnnxEngine.supports(base)).toEqual({ ok: true });
    readout.dispose();
    base.dispose();
  });

  it('names a readout without per-session readouts (the contract leaves readout(session) optional)', () => {
    const base = buildSmallModel({ a: 3 });
    // the small model's own readout, without its readout(session)
    const multi = base.readout;
    const without = new Proxy(multi, {
      get: (target, key) => {
        if (key === 'readout') return undefined;
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const model = new CoreReadout({ core: base.core, readout: without, inputShape: [2, 9, 8] });
    expect(OnnxEngine.supports(model)).toEqual({ ok: false, reason: expect.stringContaining('needs a readout per session') });
    expect(() => exportOnnx(model)).toThrow(UnsupportedError);
    expect(() => exportOnnx(model)).toThrow('per-session readouts');
    expect(createEngine(model, 'auto', ort)).toBeInstanceOf(TfjsEngine);
    base.dispose();
  });
});
