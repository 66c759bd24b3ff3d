// Which ONNX Runtime execution providers load here, and the engine's inference (batch 32 × 50 frames), training
// step (batch 32, forward + backward + clip + AdamW) and MEI iteration (input gradient) on each one that does.
// `bench/gpu-check.sh` runs it; needs built packages (`pnpm build`). Writes JSON when a path is given.
import { writeFileSync } from 'node:fs';
import { FRAMES, NEURONS, SESSION, buildModel, loadPackages, randomData, time } from './lib.mjs';

const [outPath] = process.argv.slice(2);
const RUNS = Number(process.env.GPU_CHECK_RUNS ?? 5);
const { tf, backend, models, onnx, trainer } = await loadPackages();
await backend.initBackend('wasm');
const ort = await onnx.loadOnnxRuntimeNode();
const listed = ort.listSupportedBackends?.() ?? null;
const model = buildModel(models);
const x = tf.tensor5d(randomData(32 * FRAMES * 18 * 16 * 2, 1), [32, FRAMES, 18, 16, 2]);
const y = tf.tensor3d(randomData(32 * FRAMES * NEURONS, 2, 'poisson'), [32, FRAMES, NEURONS]);
const tOut = FRAMES - model.framesCut;
const cot = new Float32Array(tOut * NEURONS);
for (let t = 10; t < 20; t++) cot[t * NEURONS] = 1 / 10;
const cotangent = tf.tensor3d(cot, [1, tOut, NEURONS]);
const stimulus = tf.tensor5d(randomData(FRAMES * 18 * 16 * 2, 5), [1, FRAMES, 18, 16, 2]);

const report = { onnxruntime_backends: listed, devices: {} };
for (const device of onnx.DEVICES) {
  const probe = await onnx.probeDevice(ort, device);
  const entry = { loads: probe.ok, ...(probe.ok ? {} : { reason: probe.reason }) };
  report.devices[device] = entry;
  if (!probe.ok) {
    console.log(`${device}: not available — ${probe.reason}`);
    continue;
  }
  const engine = onnx.createEngine(model, 'onnx', ort, { device, threads: 2 });
  const optimizer = new trainer.AdamW(model.trainableParameters(), { lr: 0.01, weightDecay: 0.01 });
  try {
    model.eval();
    entry.inference_b32_ms = (await time(async () => (await engine.predict(x, SESSION)).dispose(), { runs: RUNS })).median_ms;
    entry.mei_input_gradient_ms = (
      await time(
        async () => {
          const r = await engine.inputGradient(stimulus, SESSION, cotangent);
          tf.dispose([r.output, r.grad]);
        },
        { runs: RUNS },
      )
    ).median_ms;
    model.train();
    entry.train_step_b32_ms = (
      await time(
        async () => {
          const s = await engine.lossAndGrads(x, y, SESSION);
          const clipped = trainer.clipGradNorm(s.grads, 1.0);
          optimizer.step(clipped.grads);
          tf.dispose([...clipped.grads.values(), ...s.grads.values()]);
        },
        { runs: RUNS },
      )
    ).median_ms;
  } catch (e) {
    entry.error = String(e?.message ?? e).split('\n')[0];
  } finally {
    optimizer.dispose();
    engine.dispose();
  }
  const f = (v) => (typeof v === 'number' ? `${v.toFixed(1)} ms` : '—');
  console.log(
    `${device}: loads; inference 32×50 ${f(entry.inference_b32_ms)}, training step b32 ${f(entry.train_step_b32_ms)}, MEI input gradient ${f(entry.mei_input_gradient_ms)}${entry.error ? `; failed: ${entry.error}` : ''}`,
  );
}
if (outPath) writeFileSync(outPath, `${JSON.stringify(report, null, 1)}\n`);
process.exit(0);
