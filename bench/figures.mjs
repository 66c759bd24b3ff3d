// One benchmark figure per process (so peak RSS is per figure): `node bench/figures.mjs <figure> <out.json>`.
import { writeFileSync } from 'node:fs';
import { FRAMES, NEURONS, ROOT, SESSION, buildModel, loadPackages, peakRssMb, randomData, time } from './lib.mjs';

const [figure, outPath] = process.argv.slice(2);
const { tf, backend, models, onnx, onnxInternal, trainer, insilico } = await loadPackages();
await backend.initBackend('wasm');
const model = buildModel(models);
const ort = await onnx.loadOnnxRuntimeNode();
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function batch(B, seed = 1) {
  const x = tf.tensor5d(randomData(B * FRAMES * 18 * 16 * 2, seed), [B, FRAMES, 18, 16, 2]);
  const y = tf.tensor3d(randomData(B * FRAMES * NEURONS, seed + 1, 'poisson'), [B, FRAMES, NEURONS]);
  return { x, y };
}

/** forward, Poisson + regularizers, backward (engine), clip at norm 1, AdamW — OpenRetina's training step. */
function trainStep(engine, optimizer) {
  return async (x, y) => {
    const step = await engine.lossAndGrads(x, y, SESSION);
    const clipped = trainer.clipGradNorm(step.grads, 1.0);
    optimizer.step(clipped.grads);
    tf.dispose([...clipped.grads.values(), ...step.grads.values()]);
    return step.total;
  };
}

/**
 * One MEI iteration as OpenRetina's bench times it (its c3: `optimize_stimulus` with `max_iterations=1`):
 * `optimizeStimulus` with IncreaseObjective(neuron 0, SliceMeanReducer(10, 10)), RangeRegularizationLoss, SGD lr 100,
 * ChangeNormJointlyClipRangeSeparately(norm 30), one iteration per call, as the demo's MEI panel steps. With an engine
 * the objective's gradient is the engine's input VJP, and these settings step on the host (@openretina/insilico's
 * HostStimulusStep); the TF.js engine differentiates the whole model in TF.js.
 */
function meiSettings() {
  const minMax = insilico.HOEFLING_MIN_MAX;
  return {
    objective: new insilico.IncreaseObjective(model, 0, SESSION, new insilico.SliceMeanReducer({ axis: 0, start: 10, length: 10 })),
    regularizers: new insilico.RangeRegularizationLoss({ minMax, maxNorm: insilico.HOEFLING_STIMULUS_RANGE.norm, factor: 0.1 }),
    postprocessors: new insilico.ChangeNormJointlyClipRangeSeparately({ minMax, norm: insilico.HOEFLING_STIMULUS_RANGE.norm }),
  };
}

function meiIteration(engine, stimulus) {
  const settings = meiSettings();
  const optimizer = new insilico.StimulusSGD({ lr: 100 });
  const stopper = new insilico.OptimizationStopper(1);
  const options = { ...settings, optimizer, stopper, ...(engine.name === 'onnx' ? { engine } : {}) };
  return async () => {
    await insilico.optimizeStimulus(stimulus, options);
  };
}

const result = { figure };
const engineName = process.env.BENCH_ENGINE ?? 'auto';
const engine = onnx.createEngine(model, engineName, ort, { threads: 2 });
result.engine = engine.name;

if (figure === 'inference_b32_tfjs' || figure === 'inference_b32_onnx') {
  model.eval();
  const { x } = batch(32);
  const e = figure === 'inference_b32_tfjs' ? new models.TfjsEngine(model) : new onnx.OnnxEngine(model, { ort, threads: 2 });
  result.engine = e.name;
  Object.assign(result, await time(async () => (await e.predict(x, SESSION)).dispose(), { runs: RUNS }));
} else if (figure === 'inference_b32_exported_onnx') {
  // (e) the exported model (exportOnnx, default form) as a user runs it: raw `session.run` on a (B, C, T, H, W)
  // stimulus, 2 intra-op threads; every form for comparison, and the default through OnnxResponseModel.predict
  // (TF.js channels-last tensors in and out).
  model.eval();
  const { x } = batch(32);
  result.engine = 'onnx (exportOnnx, raw session.run)';
  const xn = tf.transpose(x, [0, 4, 1, 2, 3]);
  const feeds = { stimulus: new ort.Tensor('float32', xn.dataSync(), xn.shape) };
  const sessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1 };
  result.forms = {};
  for (const convForm of [undefined, 'depthwise', 'composed']) {
    const bytes = onnx.exportOnnx(model, { session: SESSION, ...(convForm ? { convForm } : {}) });
    const sess = await ort.InferenceSession.create(bytes, sessionOptions);
    const r = await time(() => sess.run(feeds), { runs: RUNS });
    result.forms[convForm ?? 'default (gemm)'] = r;
    if (!convForm) {
      Object.assign(result, r, { convForm: 'gemm (default)' });
      const m = await onnx.loadOnnxModel(bytes, { sessionOptions });
      result.predict_e2e = await time(async () => (await m.predict(x)).dispose(), { runs: RUNS });
      m.dispose();
    }
    await sess.release?.();
  }
} else if (figure.startsWith('train_step_b')) {
  const [B, which] = figure.slice('train_step_b'.length).split('_');
  const e = which === 'tfjs' ? new models.TfjsEngine(model) : engine;
  result.engine = e.name;
  model.train();
  const optimizer = new trainer.AdamW(model.trainableParameters(), { lr: 0.01, weightDecay: 0.01 });
  const { x, y } = batch(Number(B));
  const step = trainStep(e, optimizer);
  const runs = which === 'tfjs' ? 3 : RUNS;
  Object.assign(result, await time(() => step(x, y), { runs, warmup: which === 'tfjs' ? 1 : 2 }));
  // Phases: engine (forward + loss + backward + chain rule to the parameters) vs clip + AdamW.
  const t0 = performance.now();
  const s = await e.lossAndGrads(x, y, SESSION);
  const t1 = performance.now();
  const clipped = trainer.clipGradNorm(s.grads, 1.0);
  optimizer.step(clipped.grads);
  await tf.sum(model.trainableParameters().values().next().value).data();
  const t2 = performance.now();
  tf.dispose([...clipped.grads.values(), ...s.grads.values()]);
  result.phases_ms = { loss_and_grads: t1 - t0, clip_adamw: t2 - t1 };
} else if (figure === 'mei_iteration' || figure === 'mei_iteration_tfjs') {
  model.eval();
  const e = figure === 'mei_iteration_tfjs' ? new models.TfjsEngine(model) : engine;
  result.engine = e.name;
  const stimulus = tf.variable(tf.tensor5d(randomData(FRAMES * 18 * 16 * 2, 5), [1, FRAMES, 18, 16, 2]));
  Object.assign(result, await time(meiIteration(e, stimulus), { runs: 3 * RUNS, warmup: 3 }));
  // Phases (medians over separate runs): the engine's input gradient (on host arrays where the engine has
  // `inputGradientValues`, as the iteration calls it); the rest of an iteration (the host step: range penalty, SGD,
  // norm/range constraint, objective and checks, plus optimizeStimulus's set-up per call); and,
  // for comparison, the same step in TF.js (the generic path, which other settings still take): the range
  // regulariser's gradient and SGD + ChangeNormJointlyClipRangeSeparately.
  const tOut = FRAMES - model.framesCut;
  const cot = new Float32Array(tOut * NEURONS);
  for (let t = 10; t < 20; t++) cot[t * NEURONS] = 1 / 10;
  const cotangent = tf.tensor3d(cot, [1, tOut, NEURONS]);
  const { regularizers: reg, postprocessors: post } = meiSettings();
  const stimulusValues = stimulus.dataSync();
  const inputGradient = (
    await time(
      async () => {
        if (e.inputGradientValues) return void (await e.inputGradientValues(stimulusValues, stimulus.shape, SESSION, cot));
        const r = await e.inputGradient(stimulus, SESSION, cotangent);
        await r.grad.data();
        tf.dispose([r.output, r.grad]);
      },
      { runs: 2 * RUNS },
    )
  ).median_ms;
  result.phases_ms = {
    input_gradient: inputGradient,
    rest_of_iteration: result.median_ms - inputGradient,
    generic_tfjs_step_range_regularizer_grad: (
      await time(
        async () => {
          const g = tf.grad((s) => reg.forward(s))(stimulus);
          await g.data();
          g.dispose();
        },
        { runs: 2 * RUNS },
      )
    ).median_ms,
    generic_tfjs_step_sgd_and_postprocess: (
      await time(
        async () => {
          const r = tf.tidy(() => post.process(tf.sub(stimulus, 0.01)));
          await r.data();
          r.dispose();
        },
        { runs: 2 * RUNS },
      )
    ).median_ms,
  };
} else if (figure === 'epoch_bundled') {
  // (d) one epoch on the bundled dataset with the default engine: the CLI's own training (`openretina train --config
  // bundled_core_readout`, trainer.max_epochs = EPOCHS), each epoch = training steps + validation; the first epoch also
  // builds the ONNX Runtime sessions, so the figure is the median of the later ones.
  const { mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const app = await import(join(ROOT, 'apps', 'cli', 'dist', 'index.js'));
  const epochs = Number(process.env.BENCH_EPOCHS ?? 4);
  const out = mkdtempSync(join(tmpdir(), 'orbench-epoch-'));
  const lines = [];
  const io = { out: (l) => lines.push(l), err: (l) => lines.push(l) };
  const run = await app.runTraining('bundled_core_readout', [`trainer.max_epochs=${epochs}`, `paths.output_dir=${out}`], {
    engine: engineName,
    progress: 'none',
    io,
  });
  const secs = run.result.history.map((h) => h.metrics.epoch_seconds);
  const later = secs.slice(1).sort((a, b) => a - b);
  result.engine = lines.find((l) => l.startsWith('engine'))?.replace(/^engine:\s*/, '') ?? engineName;
  result.epoch_seconds = secs;
  // Where the epochs went (trainer's EpochRecord.phases, ms): medians over the epochs after the first.
  const laterH = run.result.history.length > 1 ? run.result.history.slice(1) : run.result.history;
  const mid = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
  result.phases_ms = Object.fromEntries(Object.keys(laterH[0]?.phases ?? {}).map((k) => [k, mid(laterH.map((h) => h.phases[k]))]));
  result.median_ms = (later.length ? later[(later.length - 1) >> 1] : secs[0]) * 1000;
  // Paths inside the repository are recorded relative to it (results are committed).
  result.log = lines.filter((l) => /^(backend|data|engine)/.test(l)).map((l) => l.replaceAll(`${ROOT}/`, ''));
  // Batch preparation vs a training step: the same loaders, iterated alone (no training), per batch.
  const { cfg } = app.loadExperimentConfig('bundled_core_readout', [`paths.output_dir=${out}`]);
  const data = await app.loadExperimentData(cfg);
  const loaders = app.makeDataloaders(cfg, data);
  const td = trainer.trainingDataFromLoaders(loaders, { seed: cfg.seed });
  const prep = [];
  let t0 = performance.now();
  for (const b of td.train(0)) {
    prep.push(performance.now() - t0);
    tf.dispose([b.inputs, b.targets]);
    t0 = performance.now();
  }
  prep.sort((a, b) => a - b);
  result.steps_per_epoch = td.stepsPerEpoch;
  result.batch_prep_ms = {
    median: prep[prep.length >> 1],
    max: prep[prep.length - 1],
    total: prep.reduce((a, b) => a + b, 0),
    batches: prep.length,
  };
  result.batch_size = cfg.dataloader.batch_size;
} else if (figure === 'profile_train_step_onnx') {
  // Per-op profile of the ONNX training graph (onnxruntime's own profiler), batch 32.
  const { buildEngineGraph, enginePlan } = onnxInternal;
  const bytes = buildEngineGraph(enginePlan(model, SESSION, FRAMES), 'train');
  const { mkdtempSync, readFileSync, readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ortprof-'));
  const sess = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: join(dir, 'train'),
  });
  const feeds = {};
  for (const name of sess.inputNames) feeds[name] = null;
  // Weights from the engine's own feeds: run one engine step with a wrapped session to capture them.
  const e = new onnx.OnnxEngine(model, {
    ort: {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: async () => ({
          inputNames: sess.inputNames,
          outputNames: sess.outputNames,
          run: async (f) => {
            Object.assign(feeds, f);
            return sess.run(f);
          },
        }),
      },
    },
    threads: 2,
  });
  model.train();
  const { x, y } = batch(32);
  for (let i = 0; i < 3 + RUNS; i++) {
    const s = await e.lossAndGrads(x, y, SESSION);
    tf.dispose([...s.grads.values()]);
  }
  await sess.endProfiling?.();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byOp = new Map();
  const shapes = new Map();
  // the first three runs (allocation, first-touch; the third still took ~140 ms in a quiet run) are left out
  const allRuns = events.filter((ev) => ev.cat === 'Session' && ev.name === 'model_run');
  const runs = allRuns.slice(3).map((ev) => ev.dur / 1000);
  const from = allRuns[3]?.ts ?? Number.POSITIVE_INFINITY;
  for (const ev of events) {
    if (ev.cat !== 'Node' || !ev.name.endsWith('_kernel_time') || ev.ts < from) continue;
    const op = ev.args?.op_name ?? '?';
    const node = ev.name.replace(/_kernel_time$/, '');
    const key = `${op}`;
    const cur = byOp.get(key) ?? { op, ms: 0, count: 0, nodes: new Map() };
    cur.ms += ev.dur / 1000;
    cur.count += 1;
    cur.nodes.set(node, (cur.nodes.get(node) ?? 0) + ev.dur / 1000);
    byOp.set(key, cur);
    shapes.set(node, JSON.stringify(ev.args?.output_type_shape?.[0] ?? {}));
  }
  const nRuns = runs.length || 1;
  result.model_run_ms = runs;
  result.top_nodes = [...byOp.values()]
    .flatMap((v) => [...v.nodes].map(([node, ms]) => ({ node, op: v.op, shape: shapes.get(node), ms: ms / nRuns })))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 30);
  result.by_op = [...byOp.values()]
    .map((v) => ({
      op: v.op,
      ms_per_step: v.ms / nRuns,
      nodes: v.nodes.size,
      top_nodes: [...v.nodes]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([k, ms]) => [k, ms / nRuns]),
    }))
    .sort((a, b) => b.ms_per_step - a.ms_per_step);
} else if (figure === 'profile_inference_onnx') {
  // Per-node profile of the engine's prediction graph (onnxruntime's own profiler, the figures' 2 intra-op threads):
  // batch 32 × 50 frames (figure (a)) and batch 1 × 150 frames (the demo's prediction, which onnxruntime-web runs
  // on the same graph). The engine's own sessions, created with profiling on; runs after the first two only.
  const { mkdtempSync, readFileSync, readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  model.eval();
  result.shapes = {};
  for (const [B, T] of [
    [32, FRAMES],
    [1, 150],
  ]) {
    const dir = mkdtempSync(join(tmpdir(), 'ortprof-'));
    const m = buildModel(models, T);
    m.eval();
    const sessions = [];
    const profiled = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: async (bytes, options) => {
          const s = await ort.InferenceSession.create(bytes, { ...options, enableProfiling: true, profileFilePrefix: join(dir, 'eval') });
          sessions.push(s);
          return s;
        },
      },
    };
    const e = new onnx.OnnxEngine(m, { ort: profiled, threads: 2 });
    const x = tf.tensor5d(randomData(B * T * 18 * 16 * 2, 1), [B, T, 18, 16, 2]);
    for (let i = 0; i < 2 + RUNS; i++) (await e.predict(x, SESSION)).dispose();
    for (const s of sessions) s.endProfiling();
    e.dispose();
    x.dispose();
    // the prediction graph's file is the one with the most runs (the weights graph runs once)
    const files = readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
    const runsOf = (ev) => ev.filter((v) => v.cat === 'Session' && v.name === 'model_run');
    const events = files.sort((a, b) => runsOf(b).length - runsOf(a).length)[0] ?? [];
    const runs = runsOf(events).slice(2);
    const from = runs[0]?.ts ?? Number.POSITIVE_INFINITY;
    const byNode = new Map();
    for (const ev of events) {
      if (ev.cat !== 'Node' || !ev.name.endsWith('_kernel_time') || ev.ts < from) continue;
      const node = ev.name.replace(/_kernel_time$/, '');
      const cur = byNode.get(node) ?? {
        node,
        op: ev.args?.op_name ?? '?',
        shape: JSON.stringify(ev.args?.output_type_shape?.[0] ?? {}),
        ms: 0,
      };
      cur.ms += ev.dur / 1000 / Math.max(runs.length, 1);
      byNode.set(node, cur);
    }
    const nodes = [...byNode.values()].sort((a, b) => b.ms - a.ms);
    result.shapes[`${B}x${T}`] = {
      model_run_ms: runs.map((r) => r.dur / 1000),
      nodes_ms: nodes.reduce((a, v) => a + v.ms, 0),
      top_nodes: nodes.slice(0, 10),
    };
  }
} else if (figure === 'profile_train_step_tfjs') {
  model.train();
  const { x, y } = batch(32);
  const e = new models.TfjsEngine(model);
  (await e.lossAndGrads(x, y, SESSION)).grads.forEach((g) => g.dispose());
  const info = await tf.profile(async () => {
    const s = await e.lossAndGrads(x, y, SESSION);
    s.grads.forEach((g) => g.dispose());
  });
  const byKernel = new Map();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const cur = byKernel.get(k.name) ?? { kernel: k.name, ms: 0, count: 0 };
    cur.ms += ms;
    cur.count += 1;
    byKernel.set(k.name, cur);
  }
  result.by_kernel = [...byKernel.values()].sort((a, b) => b.ms - a.ms);
} else {
  throw new Error(`unknown figure ${figure}`);
}
result.peak_rss_mb = peakRssMb();
writeFileSync(outPath, JSON.stringify(result, null, 1));
engine.dispose();
process.exit(0);
