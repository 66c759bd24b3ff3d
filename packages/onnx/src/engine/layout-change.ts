import type { OnnxGraph } from '../graph-builder.js';

/**
 * positions-last `[C, T, B·P]` → `[C, P, B, T]`, the time-last order of the prediction and training graphs: a 2-D
 * transpose to `[B·P, C·T]`, then a permutation that moves rows of T. Not the batched 2-D transpose
 * `[C, T, B·P] → [C, B·P, T]`: onnxruntime 1.30 runs that one several times slower on two intra-op threads than on
 * one (0.2 → ~1 ms at `[16, 30, 1536]`; 1.2–3.9 ms per training step), while these two scale. `T`: the frame count,
 * or the name of a one-element int64 tensor holding it (graphs of any length).
 */
export function positionsLastToTimeLast(g: OnnxGraph, h: string, C: number, P: number, T: number | string): string {
  const rows = g.transpose(g.op('Flatten', [h], { axis: 2 }), [1, 0]); // [B·P, C·T]
  const shape = typeof T === 'number' ? g.ints([-1, P, C, T]) : g.op('Concat', [g.ints([-1, P, C]), T], { axis: 0 });
  return g.transpose(g.op('Reshape', [rows, shape]), [2, 1, 0, 3]); // [B, P, C, T] → [C, P, B, T]
}
