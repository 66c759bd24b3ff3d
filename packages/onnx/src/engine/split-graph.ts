import onnxProto from 'onnx-proto';
import { UnsupportedError } from '@openretina/contracts';

const { onnx } = onnxProto;

/** A graph in two: `fixed` computes `handoff` from the inputs that stay the same; `rest` takes them as inputs. */
export interface SplitGraph {
  fixed: Uint8Array;
  rest: Uint8Array;
  /** The tensors `fixed` outputs and `rest` takes (float, by name). */
  handoff: string[];
}

/**
 * Splits a serialised graph at the inputs that change from run to run (`varying`): the nodes that depend on other
 * inputs only (the weights) form `fixed`, run once while those inputs stay the same; the nodes that depend on a
 * varying input form `rest`, which takes fixed's results as inputs. Nodes on constants alone go to both (ONNX
 * Runtime folds them when it creates a session). The MEI's input gradient runs one graph per step with the same
 * weights, and ~20 % of its kernel time built the placed kernels from them. Throws `UnsupportedError` for a graph
 * with an output that does not vary or a weights-only op that yields integers (`Shape`, `Size`, `Cast`: the tensors
 * handed over are declared float).
 */
export function splitGraph(bytes: Uint8Array, varying: readonly string[]): SplitGraph {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const graph = { name: g.name!, node: g.node!, input: g.input!, output: g.output!, initializer: g.initializer! };
  const inputNames = new Set(graph.input.map((i) => i.name!));
  const varyingSet = new Set(varying);
  const kind = new Map<string, 'varying' | 'fixed'>(); // tensors not in it: constants
  for (const name of inputNames) kind.set(name, varyingSet.has(name) ? 'varying' : 'fixed');
  const nodeKind = graph.node.map((node) => {
    const ins = node.input!.filter((i) => i !== '').map((i) => kind.get(i));
    const k = ins.includes('varying') ? 'varying' : ins.includes('fixed') ? 'fixed' : 'constant';
    if (k !== 'constant') for (const o of node.output!) kind.set(o, k);
    return k;
  });
  const handoff = new Set<string>();
  graph.node.forEach((node, i) => {
    if (nodeKind[i] !== 'varying') return;
    for (const name of node.input!) if (kind.get(name) === 'fixed' && !inputNames.has(name)) handoff.add(name);
  });
  for (const o of graph.output)
    if (kind.get(o.name!) !== 'varying')
      throw new UnsupportedError(`splitGraph: the output ${o.name} does not depend on ${varying.join(', ')}.`);
  const nonFloat = graph.node.filter((n, i) => nodeKind[i] === 'fixed' && ['Shape', 'Size', 'Cast'].includes(n.opType!));
  if (nonFloat.length > 0)
    throw new UnsupportedError(`splitGraph: the weights-only part computes ${nonFloat[0]!.opType}, whose result is not a float.`);
  const floatInput = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT }) }),
    });
  const used = (nodes: typeof graph.node) => new Set(nodes.flatMap((n) => n.input!));
  const part = (name: string, nodes: typeof graph.node, inputs: typeof graph.input, outputs: typeof graph.output) => {
    const needed = used(nodes);
    return onnx.ModelProto.encode(
      onnx.ModelProto.create({
        ...model,
        graph: onnx.GraphProto.create({
          name,
          node: nodes,
          initializer: graph.initializer.filter((t) => needed.has(t.name!)),
          input: inputs.filter((i) => needed.has(i.name!)),
          output: outputs,
        }),
      }),
    ).finish();
  };
  const fixedNodes = graph.node.filter((_, i) => nodeKind[i] !== 'varying');
  const restNodes = graph.node.filter((_, i) => nodeKind[i] !== 'fixed');
  const names = [...handoff];
  return {
    fixed: part(`${graph.name}_fixed`, fixedNodes, graph.input, names.map(floatInput)),
    rest: part(`${graph.name}_rest`, restNodes, [...graph.input, ...names.map(floatInput)], graph.output),
    handoff: names,
  };
}
