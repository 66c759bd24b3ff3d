// Child process of ort-telemetry.test.ts: loads onnxruntime-node through the package's loader, reports the telemetry
// variable it then sees, and opens one session (a one-node graph) only when ONNX Runtime's telemetry is off, so a
// loader that failed to opt out cannot make the test report to anyone.
import { loadOnnxRuntimeNode } from '@openretina/onnx/node';

// ModelProto of `y = Identity(x)`, x and y float [1], opset 13
const IDENTITY_MODEL = 'CAg6NwoQCgF4EgF5IghJZGVudGl0eRIBZ1oPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0=';

const ort = await loadOnnxRuntimeNode();
const value = process.env.ORT_DISABLE_TELEMETRY ?? null;
const off = value === '1' || value === 'true';
if (off) {
  const session = await ort.InferenceSession.create(new Uint8Array(Buffer.from(IDENTITY_MODEL, 'base64')));
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(3), [1]) });
  if (out.y.data[0] !== 3) throw new Error('the identity graph did not return its input');
  await session.release?.();
}
process.stdout.write(JSON.stringify({ value, opened: off, pid: process.pid }));
