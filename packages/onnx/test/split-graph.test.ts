import { describe, expect, it } from 'vitest';
import { UnsupportedError } from '@openretina/contracts';
import { OnnxGraph } from '../src/graph-builder.js';
import { splitGraph } from '../src/engine/split-graph.js';
import { loadOnnxRuntimeNode } from '../src/node.js';

/** `y = x · (w + 1)`: `w + 1` depends on the weight alone. */
function graph(output: (g: OnnxGraph) => string): Uint8Array {
  const g = new OnnxGraph();
  g.input('x', [2, 3]);
  g.input('w', [3, 3]);
  g.output('y', output(g), [2, 3]);
  return g.encode('t');
}

describe('splitGraph: a graph in a weights-only part and the part that varies', () => {
  it('runs as the whole graph: the weights-only part once, its result fed to the rest', async () => {
    const ort = await loadOnnxRuntimeNode();
    const bytes = graph((g) => g.matmul('x', g.add('w', g.scalar(1))));
    const split = splitGraph(bytes, ['x']);
    expect(split.handoff).toHaveLength(1);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 6 }, (_, i) => i - 2),
      [2, 3],
    );
    const w = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 9 }, (_, i) => i / 4),
      [3, 3],
    );
    const [whole, fixed, rest] = await Promise.all([bytes, split.fixed, split.rest].map((b) => ort.InferenceSession.create(b)));
    expect(fixed!.inputNames).toEqual(['w']);
    expect(rest!.inputNames).toEqual(['x', ...split.handoff]);
    const want = (await whole!.run({ x, w })).y!.data;
    const handed = await fixed!.run({ w });
    expect(Array.from((await rest!.run({ x, ...handed })).y!.data as Float32Array)).toEqual(Array.from(want as Float32Array));
  });

  it('refuses an output that does not vary and a weights-only op that yields integers', () => {
    expect(() =>
      splitGraph(
        graph((g) => g.add('w', g.scalar(1))),
        ['x'],
      ),
    ).toThrow(UnsupportedError);
    expect(() =>
      splitGraph(
        graph((g) => g.add('w', g.scalar(1))),
        ['x'],
      ),
    ).toThrow(/the output y does not depend on x/);
    // w through int64 and back: the int64 tensor would be handed over as a float
    const castOfW = graph((g) => g.matmul('x', g.op('Cast', [g.op('Cast', ['w'], { to: 7 })], { to: 1 })));
    expect(() => splitGraph(castOfW, ['x'])).toThrow(/weights-only part computes Cast/);
  });
});
