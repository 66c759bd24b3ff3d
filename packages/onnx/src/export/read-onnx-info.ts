import onnxProto from 'onnx-proto';

/*
 * Reading an ONNX model's metadata, inputs, outputs and opset back (ours or PyTorch's), without running it.
 */

const { onnx } = onnxProto;

/** Reads the `metadata_props` and input/output shapes of an ONNX model (ours or PyTorch's). */
export function readOnnxInfo(bytes: Uint8Array): {
  metadata: Record<string, string>;
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
  opset: number | undefined;
} {
  const m = onnx.ModelProto.decode(bytes);
  const dims = (v: InstanceType<typeof onnx.ValueInfoProto>) =>
    (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
  return {
    metadata: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    inputs: (m.graph?.input ?? [])
      .filter((i) => !(m.graph?.initializer ?? []).some((t) => t.name === i.name))
      .map((v) => ({ name: v.name ?? '', dims: dims(v as InstanceType<typeof onnx.ValueInfoProto>) })),
    outputs: (m.graph?.output ?? []).map((v) => ({ name: v.name ?? '', dims: dims(v as InstanceType<typeof onnx.ValueInfoProto>) })),
    opset: (() => {
      const v = (m.opsetImport ?? []).find((o) => !o.domain)?.version;
      return v === undefined || v === null ? undefined : Number(v);
    })(),
  };
}
