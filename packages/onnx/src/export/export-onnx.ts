import type * as tf from '@tensorflow/tfjs-core';
import { UnsupportedError } from '@openretina/contracts';
import { SpaceTimeSeparableConv3d } from '@openretina/layers';
import type { CoreReadout } from '@openretina/models';
import { OnnxGraph } from '../graph-builder.js';
import { type AnyModule, dataOf, sessionReadouts } from './model-weights.js';
import { sessionMetadata } from './metadata.js';
import { type ExportOnnxOptions, ONNX_INPUT, ONNX_OUTPUT } from './options.js';
import { exportGemm } from './gemm-form.js';
import { exportConv } from './separable-conv.js';

/*
 * \`exportOnnx\`: checks what the model allows, then writes the \`gemm\` form or builds the graph of the \`depthwise\` /
 * \`composed\` forms (colour squashing, down-sampling, conv blocks, BatchNorm, pooling, readout).
 */

/**
 * Writes the eval-mode forward of a `CoreReadout` (SimpleCoreWrapper with space-time separable convolutions +
 * Gaussian-mask readouts) as an ONNX graph (opset 17): input `stimulus` `(batch, C, time, H, W)` float32 — the
 * layout of OpenRetina's PyTorch export, so graphs from either side are interchangeable — output `responses`
 * `(batch, time − framesCut, N)`. Batch and time are dynamic. Weight-only computations (the temporal basis, the
 * masks, the positive clamp and scale of the readout features) are folded into constants.
 */
export function exportOnnx(model: CoreReadout, options: ExportOnnxOptions = {}): Uint8Array {
  const core = model.core as unknown as AnyModule;
  const layers = (core.features as { layers?: AnyModule[] } | undefined)?.layers;
  const coreOptions = core.options as Record<string, unknown> | undefined;
  if (!layers || !coreOptions)
    throw new UnsupportedError(`ONNX export supports SimpleCoreWrapper cores only (got ${model.core.constructor.name}).`);
  const gemmBlocker = core.colorSquashing
    ? 'colour squashing'
    : coreOptions.downsampleInputKernelSize
      ? 'input down-sampling'
      : layers.some((l) => l.pool)
        ? 'pooling'
        : undefined;
  if (options.convForm === 'gemm' && gemmBlocker)
    throw new UnsupportedError(`The gemm ONNX form does not cover ${gemmBlocker}; use convForm 'depthwise'.`);
  const form = options.convForm ?? (gemmBlocker ? 'depthwise' : 'gemm');
  const sessions = options.session === undefined ? [...model.sessions] : [options.session];
  for (const s of sessions) model.readout.numNeurons(s); // unknown session → UnknownSessionError
  const { channels: C, height: H, width: W } = model.stimulus;
  if (form === 'gemm') return exportGemm(model, layers, coreOptions, sessions, options);
  const g = new OnnxGraph();
  let x = g.input(ONNX_INPUT, ['batch', C, 'time', H, W]);
  let hw: [number, number] = [H, W];
  const colour = core.colorSquashing as AnyModule | undefined;
  if (colour) {
    const cw = dataOf(colour.channelWeights as tf.Variable);
    x = g.op('Conv', [x, g.floats('colour_w', cw, [1, cw.length, 1, 1, 1])], { kernel_shape: [1, 1, 1] });
  }
  const down = coreOptions.downsampleInputKernelSize as readonly number[] | null | undefined;
  if (down) {
    x = g.op('AveragePool', [x], { kernel_shape: [...down], strides: [...down] });
    hw = [Math.floor(hw[0] / down[1]!), Math.floor(hw[1] / down[2]!)];
  }
  for (const layer of layers) {
    const conv = layer.conv;
    if (!(conv instanceof SpaceTimeSeparableConv3d)) {
      throw new UnsupportedError(`ONNX export supports the custom_separable convolution only (got ${(conv as object).constructor.name}).`);
    }
    ({ y: x, hw } = exportConv(g, x, conv, hw, options.session, form));
    const norm = layer.norm as AnyModule;
    const O = conv.outChannels;
    const bnWeight = norm.weight ? dataOf(norm.weight as tf.Variable) : new Float32Array(O).fill(1);
    const bnBias = norm.bias ? dataOf(norm.bias as tf.Variable) : new Float32Array(O);
    const mean = norm.runningMean as tf.Variable | undefined;
    const variance = norm.runningVar as tf.Variable | undefined;
    if (!mean || !variance) throw new UnsupportedError('ONNX export needs BatchNorm running statistics (track_running_stats).');
    x = g.op(
      'BatchNormalization',
      [
        x,
        g.floats('bn_w', bnWeight, [O]),
        g.floats('bn_b', bnBias, [O]),
        g.floats('bn_mean', dataOf(mean), [O]),
        g.floats('bn_var', dataOf(variance), [O]),
      ],
      { epsilon: norm.eps as number },
    );
    const bias = (layer.bias as AnyModule).bias as tf.Variable;
    x = g.add(x, g.floats('bias', dataOf(bias), [1, O, 1, 1, 1]));
    x = g.op('Elu', [x], { alpha: 1 });
    if (layer.pool) {
      x = g.op('MaxPool', [x], { kernel_shape: [1, 2, 2], strides: [1, 2, 2] });
      hw = [Math.floor(hw[0] / 2), Math.floor(hw[1] / 2)];
    }
  }
  const cut = (coreOptions.cutFirstNFrames as number | undefined) ?? 30;
  if (cut > 0) x = g.slice(x, [cut], [2 ** 53 - 1], [2]);
  // readout: (B, c, T, h, w) → (B, T, c·h·w) @ W + b → nonlinearity
  const c = model.core.outChannels;
  const { weights, bias, N, nl } = sessionReadouts(model, sessions, c, hw);
  x = g.transpose(x, [0, 2, 1, 3, 4]);
  x = g.reshape(x, [0, 0, c * hw[0] * hw[1]]);
  x = g.matmul(x, g.floats('readout_w', weights, [c * hw[0] * hw[1], N]));
  x = g.add(x, g.floats('readout_b', bias, [N]));
  const opFor: Record<string, string | undefined> = { softplus: 'Softplus', exp: 'Exp', relu: 'Relu', elu: 'Elu' };
  if (nl !== 'identity') {
    const op = opFor[nl];
    if (!op) throw new UnsupportedError(`ONNX export: readout nonlinearity "${nl}" is not supported.`);
    x = g.op(op, [x], op === 'Elu' ? { alpha: 1 } : {});
  }
  g.output(ONNX_OUTPUT, x, ['batch', 'time_out', N]);
  return g.encode(options.name ?? 'openretina', sessionMetadata(model, sessions, C, H, W));
}
