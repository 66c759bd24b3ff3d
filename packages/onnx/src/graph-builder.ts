import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

type Attr = number | number[] | string;

/** Attributes written as floats even when their value is an integer (`alpha` of Elu, `epsilon` of BatchNormalization, ...). */
const FLOAT_ATTRIBUTES = new Set(['alpha', 'beta', 'epsilon']);

/** The opset every graph of this package is written for. */
export const GRAPH_OPSET = 17;

/**
 * The one ONNX graph writer of this package: the exported inference graphs and the engine graphs (forward, forward
 * + backward, input gradients). Graphs have named inputs and outputs; every node gets a fresh output name;
 * integer constants are shared.
 */
export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private counter = 0;
  private readonly intCache = new Map<string, string>();

  /**
   * Set on a branch (see {@link ifElse}): the graph it belongs to. Names stay unique across both, and constants go
   * to the main graph, whose values a branch reads by name.
   */
  private main: OnnxGraph | undefined;

  fresh(prefix: string): string {
    if (this.main) return this.main.fresh(prefix);
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  /** Marks `value` as the graph output `name` (through an Identity). */
  output(name: string, value: string, dims: (number | string)[] = []): void {
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name }));
    this.outputs.push(valueInfo(name, dims));
  }

  floats(prefix: string, data: Float32Array, dims: readonly number[]): string {
    if (this.main) return this.main.floats(prefix, data, dims);
    const name = this.fresh(prefix);
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dataType: onnx.TensorProto.DataType.FLOAT,
        dims: [...dims],
        rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
      }),
    );
    return name;
  }

  scalar(v: number): string {
    return this.floats('c', Float32Array.of(v), []);
  }

  ints(data: readonly number[]): string {
    if (this.main) return this.main.ints(data);
    const key = data.join(',');
    const cached = this.intCache.get(key);
    if (cached) return cached;
    const name = this.fresh('i');
    const arr = BigInt64Array.from(data.map((v) => BigInt(v)));
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dataType: onnx.TensorProto.DataType.INT64,
        dims: [data.length],
        rawData: new Uint8Array(arr.buffer),
      }),
    );
    this.intCache.set(key, name);
    return name;
  }

  /** Adds a node and returns the name of its (single) output. */
  op(opType: string, inputs: string[], attributes: Record<string, Attr> = {}): string {
    const output = this.fresh(opType.toLowerCase());
    const attribute = Object.entries(attributes).map(([name, v]) => {
      if (typeof v === 'string')
        return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
      return Number.isInteger(v) && !FLOAT_ATTRIBUTES.has(name)
        ? onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v })
        : onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
    });
    this.nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], name: output, attribute }));
    return output;
  }

  /**
   * An `If` node: `cond` (a one-element bool tensor) runs the branch `then` builds, else the one `otherwise` builds;
   * each gets a graph to add its nodes to and returns the name of its result, which the node outputs.
   */
  ifElse(cond: string, then: (g: OnnxGraph) => string, otherwise: (g: OnnxGraph) => string): string {
    const branch = (attribute: string, build: (g: OnnxGraph) => string) => {
      const sub = new OnnxGraph();
      sub.main = this.main ?? this;
      const result = sub.fresh(`${attribute}_out`);
      sub.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [build(sub)], output: [result], name: result }));
      // the result's element type only: its shape depends on the input
      const type = onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT }) });
      const g = onnx.GraphProto.create({ name: result, node: sub.nodes, output: [onnx.ValueInfoProto.create({ name: result, type })] });
      return onnx.AttributeProto.create({ name: attribute, type: onnx.AttributeProto.AttributeType.GRAPH, g });
    };
    const output = this.fresh('if');
    const attribute = [branch('then_branch', then), branch('else_branch', otherwise)];
    this.nodes.push(onnx.NodeProto.create({ opType: 'If', input: [cond], output: [output], name: output, attribute }));
    return output;
  }

  // Shorthands for the ops the graphs use.
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  reshape(a: string, shape: readonly number[]): string {
    return this.op('Reshape', [a, this.ints(shape)]);
  }
  transpose(a: string, perm: number[]): string {
    return this.op('Transpose', [a], { perm });
  }
  reduceSum(a: string, axes: readonly number[], keepdims = 0): string {
    return this.op('ReduceSum', [a, this.ints(axes)], { keepdims });
  }
  reduceMean(a: string, axes: number[], keepdims = 1): string {
    return this.op('ReduceMean', [a], { axes, keepdims });
  }
  slice(a: string, starts: number[], ends: number[], axes: number[]): string {
    return this.op('Slice', [a, this.ints(starts), this.ints(ends), this.ints(axes)]);
  }

  /** The serialised model; `metadata` values are stored as JSON strings in `metadata_props`. */
  encode(name: string, metadata: Record<string, unknown> = {}, producerName = '@openretina/onnx'): Uint8Array {
    const graph = onnx.GraphProto.create({
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    const proto = onnx.ModelProto.create({
      irVersion: 8,
      producerName,
      producerVersion: '0.0.0',
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: GRAPH_OPSET })],
      graph,
      metadataProps: Object.entries(metadata).map(([key, v]) => onnx.StringStringEntryProto.create({ key, value: JSON.stringify(v) })),
    });
    return onnx.ModelProto.encode(proto).finish();
  }
}

function valueInfo(name: string, dims: (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> {
  const dim = dims.map((v) =>
    typeof v === 'number'
      ? onnx.TensorShapeProto.Dimension.create({ dimValue: v })
      : onnx.TensorShapeProto.Dimension.create({ dimParam: v }),
  );
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim }) }),
    }),
  });
}
