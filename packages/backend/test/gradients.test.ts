/**
 * Gradient checks: tf.grads (input and filter gradients) of conv2d, depthwise conv2d, conv3d and
 * fastDepthwiseConv2d on the cpu backend (stock kernels) and on wasm (with our kernels), each compared
 * with float64 central finite differences of `loss = Σ y·r` (r random) on ~20 random elements per
 * tensor, and cpu compared with wasm on the full gradients. Writes the table to
 * test-output/gradient-table.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastDepthwiseConv2d, initBackend } from '../src/index.js';
import {
  convRef,
  dot,
  finiteDifferences,
  fmt,
  maxRelError,
  randomData,
  resolvePads,
  rng,
  sampleIndices,
  size,
  type Shape5,
} from './reference.js';

type Op = 'conv2d' | 'depthwise' | 'fastDepthwise' | 'conv3d';
type Explicit2D = [[number, number], [number, number], [number, number], [number, number]];
type Pad = 'valid' | 'same' | number | Explicit2D;

interface Case {
  op: Op;
  x: number[];
  w: number[];
  pad: Pad;
}

const TOLERANCE = 1e-3;
const SAMPLES = 20;

const EXPLICIT_2D: Explicit2D = [
  [0, 0],
  [1, 2],
  [2, 1],
  [0, 0],
];
const PADS_2D: Pad[] = ['valid', 'same', EXPLICIT_2D];
// conv3d takes only one number as explicit padding (same on every side of every axis).
const PADS_3D: Pad[] = ['valid', 'same', 1];

const SHAPES: Record<Op, [number[], number[]][]> = {
  conv2d: [
    [
      [2, 6, 7, 2],
      [3, 3, 2, 3],
    ],
    [
      [2, 14, 3, 2],
      [11, 1, 2, 2],
    ],
    [
      [2, 5, 6, 3],
      [2, 4, 3, 2],
    ],
  ],
  depthwise: [
    [
      [2, 6, 7, 2],
      [3, 3, 2, 3],
    ], // multiplier 3
    [
      [2, 14, 3, 3],
      [11, 1, 3, 2],
    ], // temporal, multiplier 2
    [
      [2, 24, 3, 2],
      [21, 1, 2, 1],
    ], // temporal, 21 taps (padded to 25 on wasm)
    [
      [1, 9, 4, 2],
      [5, 1, 2, 1],
    ], // 5 taps (padded to 9)
    [
      [2, 3, 32, 2],
      [1, 30, 2, 1],
    ], // 30 taps along the width (chunks of 25)
    [
      [2, 5, 5, 2],
      [2, 2, 2, 2],
    ], // even kernel: asymmetric 'same'
    [
      [1, 9, 9, 2],
      [7, 7, 2, 3],
    ], // 49 taps, multiplier 3: dense block-diagonal input gradient
    [
      [1, 13, 12, 2],
      [11, 11, 2, 4],
    ], // spatial 11×11, multiplier 4
  ],
  fastDepthwise: [
    [
      [2, 30, 3, 2],
      [21, 1, 2, 1],
    ],
    [
      [1, 62, 2, 2],
      [60, 1, 2, 1],
    ], // chunks 25 + 25 + 10 (→ 25)
    [
      [2, 12, 2, 3],
      [11, 1, 3, 1],
    ],
  ],
  conv3d: [
    [
      [1, 2, 12, 12, 2],
      [1, 11, 11, 2, 3],
    ],
    [
      [1, 23, 2, 2, 2],
      [21, 1, 1, 2, 2],
    ],
    [
      [2, 4, 5, 4, 2],
      [3, 3, 3, 2, 3],
    ],
  ],
};

const CASES: Case[] = (Object.keys(SHAPES) as Op[]).flatMap((op) =>
  SHAPES[op].flatMap(([x, w]) => (op === 'conv3d' ? PADS_3D : PADS_2D).map((pad) => ({ op, x, w, pad }))),
);

const padLabel = (p: Pad): string => (typeof p === 'string' ? p : typeof p === 'number' ? `explicit ${p}` : `explicit [${p[1]}],[${p[2]}]`);
const shapeLabel = (s: number[]): string => `(${s.join(',')})`;

/** The forward op on the active backend. */
function forward(c: Case, x: Tensor, w: Tensor): Tensor {
  switch (c.op) {
    case 'conv2d':
      return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad as Explicit2D);
    case 'depthwise':
      return tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad as Explicit2D);
    case 'fastDepthwise':
      return fastDepthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.pad as Explicit2D);
    case 'conv3d':
      // conv3d is typed 'valid' | 'same', but the kernels (cpu, wasm and ours) accept a number.
      return tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, c.pad as 'valid');
  }
}

/** Shapes lifted to 5-D for the reference ([N,1,H,W,C] and [1,kh,kw,C,M]). */
function as5D(c: Case): { xs: Shape5; ws: Shape5 } {
  if (c.op === 'conv3d') return { xs: c.x as Shape5, ws: c.w as Shape5 };
  const [n, h, w, ch] = c.x as [number, number, number, number];
  const [kh, kw, ci, co] = c.w as [number, number, number, number];
  return { xs: [n, 1, h, w, ch], ws: [1, kh, kw, ci, co] };
}

interface Grads {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

async function tfGrads(backend: string, c: Case, x: Float32Array, w: Float32Array, r: Float32Array, ys: number[]): Promise<Grads> {
  await tf.setBackend(backend);
  const xt = tf.tensor(x, c.x);
  const wt = tf.tensor(w, c.w);
  const rt = tf.tensor(r, ys);
  const y = forward(c, xt, wt);
  const [dx, dw] = tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(forward(c, a, b), rt)))([xt, wt]);
  const out = {
    y: (await y.data()) as Float32Array,
    dx: (await dx!.data()) as Float32Array,
    dw: (await dw!.data()) as Float32Array,
  };
  tf.dispose([xt, wt, rt, y, dx!, dw!]);
  return out;
}

interface Row {
  op: Op;
  x: string;
  w: string;
  pad: string;
  err: Record<string, number>;
}
const rows: Row[] = [];

beforeAll(async () => {
  const info = await initBackend('wasm');
  expect(info.name).toBe('wasm');
});

afterAll(() => {
  const cols = ['cpu dx', 'cpu dw', 'wasm dx', 'wasm dw', 'cpu↔wasm dx', 'cpu↔wasm dw'];
  const lines = [
    '# Gradient check: max relative error',
    '',
    `vs float64 central finite differences of loss = Σ y·r on ${SAMPLES} random elements per tensor`,
    '(cpu = stock TF.js kernels, wasm = @openretina/backend kernels); cpu↔wasm compares the full gradients.',
    `All must be < ${TOLERANCE}.`,
    '',
    `| op | x | filter | padding | ${cols.join(' | ')} |`,
    `|---|---|---|---|${cols.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.op} | ${r.x} | ${r.w} | ${r.pad} | ${cols.map((k) => fmt(r.err[k] ?? NaN)).join(' | ')} |`),
    '',
  ];
  const table = lines.join('\n');
  console.log(table);
  const dir = new URL('../test-output/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('gradient-table.md', dir), table);
});

describe.each((['conv2d', 'depthwise', 'fastDepthwise', 'conv3d'] as Op[]).map((op) => ({ op })))('$op gradients', ({ op }) => {
  const cases = CASES.map((c, seed) => ({ ...c, seed, label: `${shapeLabel(c.x)} * ${shapeLabel(c.w)} ${padLabel(c.pad)}` }));
  it.each(cases.filter((c) => c.op === op))('$label: cpu and wasm match finite differences', async (c) => {
    const rand = rng(1000 + c.seed);
    const x = randomData(size(c.x), rand);
    const w = randomData(size(c.w), rand);
    const depthwise = c.op === 'depthwise' || c.op === 'fastDepthwise';
    const { xs, ws } = as5D(c);
    const pads = resolvePads(c.op === 'conv3d' ? '3d' : '2d', xs, ws, c.pad, depthwise);
    const ref = convRef(x, xs, w, ws, pads, depthwise);
    const r = randomData(ref.y.length, rand);
    const tfYShape = c.op === 'conv3d' ? ref.ys : [ref.ys[0], ref.ys[2], ref.ys[3], ref.ys[4]];

    // Float64 finite differences of loss = Σ conv(x, w)·r on a random subset of x and of w.
    const ix = sampleIndices(x.length, SAMPLES, rand);
    const iw = sampleIndices(w.length, SAMPLES, rand);
    const fdx = finiteDifferences(x, ix, (v) => dot(convRef(v, xs, w, ws, pads, depthwise).y, r));
    const fdw = finiteDifferences(w, iw, (v) => dot(convRef(x, xs, v, ws, pads, depthwise).y, r));

    const err: Record<string, number> = {};
    const results: Record<string, Grads> = {};
    for (const backend of ['cpu', 'wasm']) {
      const g = await tfGrads(backend, c, x, w, r, tfYShape);
      results[backend] = g;
      expect(maxRelError(g.y, ref.y), `${backend} forward`).toBeLessThan(1e-5);
      err[`${backend} dx`] = maxRelError(
        ix.map((i) => g.dx[i] as number),
        fdx,
      );
      err[`${backend} dw`] = maxRelError(
        iw.map((i) => g.dw[i] as number),
        fdw,
      );
    }
    err['cpu↔wasm dx'] = maxRelError(results.wasm!.dx, results.cpu!.dx);
    err['cpu↔wasm dw'] = maxRelError(results.wasm!.dw, results.cpu!.dw);
    rows.push({ op: c.op, x: shapeLabel(c.x), w: shapeLabel(c.w), pad: padLabel(c.pad), err });

    for (const [k, e] of Object.entries(err)) expect(e, k).toBeLessThan(TOLERANCE);
  });
});
