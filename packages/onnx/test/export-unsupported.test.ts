// What the exporter refuses, and that it says what it got: each case builds a model the export cannot write.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '@openretina/contracts';
import { CoreReadout } from '@openretina/models';
import { MultiGaussianMaskReadout } from '@openretina/readout';
import { exportOnnx } from '../src/node.js';
import { buildSmallModel } from './small-model.js';

describe('exportOnnx refuses what it cannot write', () => {
  it('a readout that reads another feature size than the core gives', () => {
    const base = buildSmallModel({ a: 3 });
    // the small model's core gives 4 channels of 9 × 6; this readout reads 4 of 7 × 8
    const readout = new MultiGaussianMaskReadout({ inShape: [4, 14, 7, 8], nNeuronsDict: { a: 3 }, scale: true, bias: true });
    const odd = new CoreReadout({ core: base.core, readout, inputShape: [2, 9, 8] });
    odd.eval();
    expect(() => exportOnnx(odd)).toThrow(ShapeError);
    expect(() => exportOnnx(odd)).toThrow('The readout of session a reads 4 channels of 7×8, but the core gives 4 of 9×6.');
    readout.dispose();
    base.dispose();
  });

  it('a readout nonlinearity given as a function', () => {
    const base = buildSmallModel({ a: 3 });
    const readout = new MultiGaussianMaskReadout({ inShape: [4, 14, 9, 6], nNeuronsDict: { a: 3 }, nonlinearity: (x) => tf.sigmoid(x) });
    const odd = new CoreReadout({ core: base.core, readout, inputShape: [2, 9, 8] });
    odd.eval();
    expect(() => exportOnnx(odd)).toThrow(
      'ONNX export supports Gaussian-mask readouts with a named nonlinearity only (got a custom nonlinearity).',
    );
    readout.dispose();
    base.dispose();
  });
});
