import * as tf from '@tensorflow/tfjs-core';
import { type SpaceTimeSeparableConv3d, resolvePadding3d } from '@openretina/layers';
import type { OnnxGraph } from '../graph-builder.js';
import { dataOf } from './model-weights.js';

/*
 * The \`depthwise\` and \`composed\` forms of a space-time separable convolution (see \`ExportOnnxOptions.convForm\`).
 */

/** One separable convolution in the \`depthwise\` or \`composed\` form; returns the output name and spatial size. */
export function exportConv(
  g: OnnxGraph,
  x: string,
  conv: SpaceTimeSeparableConv3d,
  hwIn: readonly [number, number],
  session: string | undefined,
  form: 'depthwise' | 'composed',
): { y: string; hw: [number, number] } {
  const O = conv.outChannels;
  const I = conv.inChannels;
  const L = conv.temporalKernelSize;
  const [kh, kw] = conv.spatialKernel;
  const [pt, ph, pw] = resolvePadding3d(conv.padding, [L, kh, kw]);
  const pads = [pt[0], ph[0], pw[0], pt[1], ph[1], pw[1]];
  const hw: [number, number] = [hwIn[0] + ph[0] + ph[1] - kh + 1, hwIn[1] + pw[0] + pw[1] - kw + 1];
  const temporal = tf.tidy(() => dataOf(conv.temporalKernel(session))); // [O, I, L]
  const spatial = dataOf(conv.weightSpatial); // [O, I, 1, kh, kw]
  let y: string;
  if (form === 'composed') {
    const w = new Float32Array(O * I * L * kh * kw);
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let l = 0; l < L; l++) {
          const tv = temporal[(o * I + i) * L + l]!;
          const base = ((o * I + i) * L + l) * kh * kw;
          const sBase = (o * I + i) * kh * kw;
          for (let k = 0; k < kh * kw; k++) w[base + k] = tv * spatial[sBase + k]!;
        }
    y = g.op('Conv', [x, g.floats('conv_w', w, [O, I, L, kh, kw])], { kernel_shape: [L, kh, kw], pads, strides: [1, 1, 1] });
  } else {
    // spatial depthwise: group i produces channels i·O + o with weight_spatial[o, i]
    const ws = new Float32Array(I * O * kh * kw);
    const wt = new Float32Array(I * O * L);
    for (let i = 0; i < I; i++)
      for (let o = 0; o < O; o++) {
        ws.set(spatial.subarray((o * I + i) * kh * kw, (o * I + i + 1) * kh * kw), (i * O + o) * kh * kw);
        wt.set(temporal.subarray((o * I + i) * L, (o * I + i + 1) * L), (i * O + o) * L);
      }
    const s = g.op('Conv', [x, g.floats('conv_ws', ws, [I * O, 1, 1, kh, kw])], {
      kernel_shape: [1, kh, kw],
      pads: [0, ph[0], pw[0], 0, ph[1], pw[1]],
      group: I,
    });
    const st = g.op('Conv', [s, g.floats('conv_wt', wt, [I * O, 1, L, 1, 1])], {
      kernel_shape: [L, 1, 1],
      pads: [pt[0], 0, 0, pt[1], 0, 0],
      group: I * O,
    });
    if (I === 1) y = st;
    else {
      // (B, I·O, T', H', W') → (B, I, O, T', H', W') → sum over I
      y = g.reduceSum(g.reshape(st, [0, I, O, -1, hw[0], hw[1]]), [1]);
    }
  }
  if (conv.bias) y = g.add(y, g.floats('conv_b', dataOf(conv.bias), [1, O, 1, 1, 1]));
  return { y, hw };
}
