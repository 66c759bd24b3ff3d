// Writes the demo's bundled model in our checkpoint format (model.json + model.safetensors) from a source checkpoint.
//
//   node apps/demo/scripts/make-bundled-model.mjs [source.ckpt] [output folder]
//
// Defaults: the OpenRetina 1.1.1 fixture model (fixtures/openretina-1.1.1/model.ckpt, the Höfling 2024 low-res
// core-readout of FIXTURE_MODEL) → apps/demo/public/models/openretina-fixture-hoefling-lowres/. The weights are
// checked against fixtures/openretina-1.1.1/state_dict.safetensors. Needs the packages built (pnpm build).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { checkpointToBytes, coreReadoutFromCheckpointBytes } from '@openretina/hub';
import { readSafetensors } from '@openretina/layers';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const source = process.argv[2] ?? join(root, 'fixtures', 'openretina-1.1.1', 'model.ckpt');
const out = process.argv[3] ?? join(here, '..', 'public', 'models', 'openretina-fixture-hoefling-lowres');

await tf.setBackend('cpu');
const model = coreReadoutFromCheckpointBytes(new Uint8Array(readFileSync(source)), { source });
const { weights, cardJson } = await checkpointToBytes(model, {
  name: 'OpenRetina fixture model (Höfling 2024 low-res core-readout)',
  description:
    'Placeholder until the model trained by our trainer on the bundled dataset lands: the OpenRetina 1.1.1 parity ' +
    'fixture (hoefling_2024_core_readout_low_res architecture, deterministic "trained-looking" weights, 3 sessions).',
  responseRateHz: 30,
  stimulusRateHz: 30,
  stimulusClass: 'hoefling_2024 (green/UV, 18×16 px)',
  species: 'mouse',
  extra: { source: 'fixtures/openretina-1.1.1/model.ckpt' },
});

if (process.argv[2] === undefined) {
  // The bundled weights must be exactly the fixture state dict.
  const ref = readSafetensors(new Uint8Array(readFileSync(join(root, 'fixtures', 'openretina-1.1.1', 'state_dict.safetensors')))).tensors;
  const ours = readSafetensors(weights).tensors;
  if (ref.size !== ours.size) throw new Error(`expected ${ref.size} tensors, got ${ours.size}`);
  for (const [k, r] of ref) {
    const o = ours.get(k);
    if (!o || o.shape.join() !== r.shape.join()) throw new Error(`${k}: shape mismatch`);
    const a = r.data, b = o.data;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`${k}[${i}]: ${b[i]} != ${a[i]}`);
  }
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'model.safetensors'), weights);
writeFileSync(join(out, 'model.json'), cardJson);
model.dispose();
console.log(`wrote ${out} (${weights.byteLength} bytes of weights)`);
