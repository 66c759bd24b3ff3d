// Validation of the bundled dataset (or the config given) with the ONNX engine, A/B back to back: one forward per
// group of sessions that share a stimulus (`predictSessions`, the default) against one forward per session
// (`predict` only). Each round first changes the weights (as an epoch does), so the eval-weight refresh is included.
// Prints wall and process CPU ms per validation (CPU time is what to compare under load; run with threads=1 for a
// single-threaded comparison). Usage: node bench/validation-ab.mjs [rounds=6] [threads=2] [config=bundled_core_readout]
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const [roundsArg = '6', threadsArg = '2', config = 'bundled_core_readout'] = process.argv.slice(2);
const cli = await import(join(ROOT, 'apps', 'cli', 'dist', 'index.js'));
const backend = await import(join(ROOT, 'packages', 'backend', 'dist', 'index.js'));
const onnx = await import(join(ROOT, 'packages', 'onnx', 'dist', 'node.js'));
const trainer = await import(join(ROOT, 'packages', 'trainer', 'dist', 'index.js'));
const tf = await import(join(ROOT, 'packages', 'models', 'node_modules', '@tensorflow', 'tfjs-core', 'dist', 'tf-core.node.js')).then(
  (m) => m.default ?? m,
);
await backend.initBackend('auto');
const { cfg } = cli.loadExperimentConfig(config, []);
const read = await cli.loadExperimentData(cfg);
const info = cli.experimentDataInfo(cfg, read);
const loaders = cli.makeDataloaders(cfg, read);
const model = await cli.buildExperimentModel(cfg, info, () => {});
const engine = onnx.createEngine(model, 'onnx', await onnx.loadOnnxRuntimeNode(), { threads: Number(threadsArg) });
const perSession = { predict: (x, s) => engine.predict(x, s) };
const data = trainer.trainingDataFromLoaders(loaders);
const param = [...model.namedParameters().values()][0];
let round = 0;
const once = async (e, change = true) => {
  if (change) tf.tidy(() => param.assign(tf.mul(param, 1 + 1e-4 * ++round))); // new weights, as after an epoch of steps
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await trainer.validate(model, data.validation(), e);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000, m };
};
await once(engine);
await once(perSession); // builds the sessions of both paths
const rows = { shared: [], perSession: [] };
const load0 = loadavg()[0];
let maxDiff = 0;
for (let r = 0; r < Number(roundsArg); r++) {
  for (const [k, e] of r % 2
    ? [
        ['perSession', perSession],
        ['shared', engine],
      ]
    : [
        ['shared', engine],
        ['perSession', perSession],
      ]) {
    rows[k].push(await once(e));
  }
  // same weights for both paths: compare the metrics
  const a = await once(engine);
  const b = await once(perSession, false);
  for (const k of Object.keys(a.m)) maxDiff = Math.max(maxDiff, Math.abs(a.m[k] - b.m[k]) / Math.max(Math.abs(b.m[k]), 1e-12));
}
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
console.log(`${config}, ${threadsArg} thread(s), ${roundsArg} rounds alternating; load ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
console.log('| validation path | wall ms (median) | CPU ms (median) |\n| --- | --- | --- |');
for (const [k, v] of Object.entries(rows))
  console.log(`| ${k} | ${med(v.map((x) => x.wall)).toFixed(1)} | ${med(v.map((x) => x.cpu)).toFixed(1)} |`);
console.log(`largest relative difference of a validation metric between the paths: ${maxDiff.toExponential(2)}`);
engine.dispose();
process.exit(0);
