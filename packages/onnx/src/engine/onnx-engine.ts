import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  ShapeError,
  UnsupportedError,
  formatShape,
  type ComputeEngine,
  type InputGradient,
  type InputGradientValues,
  type LossAndGradients,
} from '@openretina/contracts';
import { type CoreLayer, SimpleCoreWrapper } from '@openretina/core';
import {
  HostCopies,
  StateRecord,
  floatStateVariables,
  readFloats,
  readState,
  sameValues,
  temporalBasis,
  tensorFromHost,
  type SpaceTimeSeparableConv3d,
} from '@openretina/layers';
import { GaussianMaskReadout, MultiReadoutBase } from '@openretina/readout';
import { lossClassName, type CoreReadout } from '@openretina/models';
import type { OrtLike, OrtSessionLike, OrtTensorLike } from '../ort.js';
import { buildEngineForwardGraph, buildEngineForwardWeightsGraph, forwardWeightsKey, oneBlockForward } from './forward-graph.js';
import { HostMaskReadout, maskReadoutPenalty, type MaskReadoutValues } from './host-mask-readout.js';
import { corePenalty, type CoreLayerValues, type CorePenaltySettings } from './host-core-penalty.js';
import { buildEngineGraph, engineNames as n, enginePlan, graphKeyPlan, type EngineGraphKind, type EnginePlan } from './training-graph.js';
import { splitGraph } from './split-graph.js';

/**
 * ONNX Runtime's graph optimisations per graph: all of them for the training and input-gradient graphs; none for the
 * weights graph (it runs once per weight change) nor for a prediction graph over several time blocks, whose
 * optimisation is most of its session creation (74–117 ms more at 150 and 750 frames: validation, tests) for run
 * times it leaves equal. A one-block prediction graph (50 frames: row bands) is optimised: creation took 46–70 ms at
 * either level, and batch-32 predictions 12.7–13.6 ms against 13.2–13.8 (6 alternating pairs) while its channel sum was
 * slices that onnxruntime fuses; since that sum became one product the two levels run alike (14.2–14.8 against
 * 14.3–15.1 ms, 4 pairs in a slow phase of the machine).
 */
function optimizationLevel(kind: EngineGraphKind | 'forward-weights' | 'vjp-fixed', plan: EnginePlan): 'all' | 'disabled' {
  if (kind === 'forward-weights') return 'disabled';
  if (kind === 'forward') return oneBlockForward(plan) ? 'all' : 'disabled';
  return 'all';
}

/**
 * Default of {@link OnnxEngineOptions.hostRehearsals}. V8 runs a function unoptimised until it has run a while, and
 * compiles it on a background thread: without rehearsals a run's first steps spent their host side in V8's
 * interpreter (5–8 ms against 2–3 later, b32 on the bench model) while V8's compiler took CPU from ONNX Runtime's two
 * threads. Rehearsed before the session is built, the host code is compiled while ONNX Runtime builds the session on
 * the main thread alone. bench/figures.mjs's b32 step (steps 3–9): a median of 39.9 against 41.5 ms, faster in 14 of
 * 20 alternating pairs (median difference 1.1 ms); a process's first 20–30 steps, rehearsals included, took as long or
 * less (1.56 against 1.61 s and 1.64 against 1.64 s in two sets of alternating processes). More rehearsals moved more of
 * the warm-up into the first step without shortening the run (20: 1.67 s for 30 steps), so 3 (bench/ANALYSIS.md round
 * fifteen).
 */
const HOST_REHEARSALS = 3;

/**
 * A training graph's outputs as zeros for its `feeds`: the loss, `d_<input>` of each weight input (the stimulus and
 * targets have none) in that input's dims, and each layer's batch statistics in its BatchNorm weight's dims.
 */
function rehearsalOutputs(feeds: Readonly<Record<string, unknown>>, layers: number): Record<string, OrtTensorLike> {
  const zeros = (d: readonly number[]): OrtTensorLike => ({ data: new Float32Array(d.reduce((a, b) => a * b, 1)), dims: d });
  const dims = (name: string): readonly number[] => (feeds[name] as OrtTensorLike).dims;
  const out: Record<string, OrtTensorLike> = { [n.loss]: zeros([]) };
  for (const name of Object.keys(feeds)) if (name !== n.x && name !== n.targets) out[n.grad(name)] = zeros(dims(name));
  for (let l = 0; l < layers; l++) {
    out[n.batchMean(l)] = zeros(dims(n.gamma(l)));
    out[n.batchVar(l)] = zeros(dims(n.gamma(l)));
  }
  return out;
}

/** Values of the largest dense matrix the engine builds per layer (2^26 float32 = 256 MiB); larger models run in TF.js. */
const MAX_PLACEMENT_VALUES = 2 ** 26;

function gradsByName(params: ReadonlyMap<string, tf.Variable>, grads: tf.NamedTensorMap): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of params) {
    const g = grads[v.name];
    if (g) out.set(name, g);
  }
  return out;
}

export interface OnnxEngineOptions {
  /** onnxruntime (`onnxruntime-node` from `loadOnnxRuntimeNode()`, or `onnxruntime-web`). */
  ort: OrtLike;
  /** Intra-op threads (default 2: both cores of a 2-core machine). */
  threads?: number;
  executionProviders?: readonly string[];
  sessionOptions?: Record<string, unknown>;
  /**
   * Rehearsals of a training step's host side before the first step of each training graph (default 3): the step's
   * own code on the current values (temporal kernels, the readout's mask and penalties, the chain rule to the
   * parameters, the gradient tensors) with zeros for the graph's outputs, changing nothing, so that V8 has compiled
   * that code by the next steps. 0 skips them.
   */
  hostRehearsals?: number;
}

type AnyModule = Record<string, unknown>;

/**
 * One session's eval-mode graph feeds, the model state they were computed from, and per length the forward graph's
 * matrices and the input gradient's tensors computed from the weights alone (the fixed part of its graph).
 */
interface EvalEntry {
  /** The model's float parameters and buffers the feeds were computed from (shared by entries of one reading). */
  readonly state: StateRecord;
  feeds: Record<string, unknown>;
  /** The forward graph's weight feeds per {@link forwardWeightsKey} (shared by lengths with the same blocks). */
  forward: Map<string, Record<string, unknown>>;
  vjp: Map<number, Record<string, unknown>>;
}

/** A layer's temporal kernel computed on the host for a training step, with what it was computed from. */
interface TemporalKernelValues {
  kernel: Float32Array;
  sines: Float32Array;
  cosines: Float32Array;
  sin: Float32Array;
  cos: Float32Array;
}

interface LayerRefs {
  conv: SpaceTimeSeparableConv3d;
  norm: {
    weight: tf.Variable;
    bias: tf.Variable;
    runningMean?: tf.Variable;
    runningVar?: tf.Variable;
    numBatchesTracked?: tf.Variable;
    momentum: number;
  };
  bias: tf.Variable;
  /** The block's eval affine map (BatchNorm with its running statistics and the block's bias): `CoreLayer.evalAffine`. */
  evalAffine: () => { scale: Float32Array; shift: Float32Array } | undefined;
}

/** Training-graph inputs that are a parameter itself, by input name, with the dims the graph takes them in. */
type ParameterInputs = Map<string, { value: tf.Tensor; dims: readonly number[] }>;

/** A spatial kernel `[O, I, 1, kh, kw]` as the engine graphs take it: `[O, I, kh, kw]`. */
function spatialKernelDims(ws: tf.Tensor): number[] {
  return [ws.shape[0]!, ws.shape[1]!, ws.shape[3]!, ws.shape[4]!];
}

/**
 * The ONNX Runtime engine: per session and stimulus length, one graph holds the forward and its backward in
 * standard ONNX ops ({@link buildEngineGraph}); a training step is one `InferenceSession.run` that returns the
 * Poisson loss and the gradients of the graph's weights. The weights fed to the graph are computed from the
 * parameters in TF.js (the sin/cos temporal basis, the Gaussian masks), and the chain rule back to the parameters,
 * plus the regularizers, is one small `tf.variableGrads` over weight-sized tensors. Same numbers as `TfjsEngine`
 * (from '@openretina/models') within float32 rounding.
 *
 * It covers `CoreReadout`s of a SimpleCoreWrapper with space-time separable convolutions and Gaussian-mask
 * readouts ({@link OnnxEngine.supports} says why a model is not covered), and trains only with the default loss
 * (the Poisson sum: the graphs compute that loss); `lossAndGrads` refuses another one.
 */
export class OnnxEngine implements ComputeEngine {
  readonly name = 'onnx' as const;
  private readonly sessions = new Map<string, Promise<OrtSessionLike>>();
  /** The input-gradient graph's two halves (see `splitGraph`) by plan, kept until both have their session. */
  private readonly vjpHalves = new Map<string, { fixed: Uint8Array; rest: Uint8Array }>();
  private readonly stimuli = new HostCopies();
  /** The training targets' host copies (their own pool: the stimuli's keeps a few sizes only). */
  private readonly targetCopies = new HostCopies();
  private readonly layers: LayerRefs[];
  /** Eval-mode graph weights per session, reused while the parameters and buffers they derive from are unchanged. */
  private readonly evalCache = new Map<string, EvalEntry>();
  /** Each layer's sin/cos temporal basis `[K, L]` for the log-speed value it was computed at (training chain rule). */
  private readonly bases = new Map<number, { logSpeed: number; sines: Float32Array; cosines: Float32Array }>();
  /** Concatenated readout feeds of session groups ({@link predictSessions}), valid while their sessions' entries are. */
  private readonly groupReadouts = new Map<string, { entries: EvalEntry[]; feeds: Record<string, unknown> }>();
  private readonly weightsKeys = new Map<number, string>();

  constructor(
    readonly model: CoreReadout,
    private readonly options: OnnxEngineOptions,
  ) {
    enginePlan(model, model.sessions[0]!, 1000); // throws UnsupportedError for models the graphs don't cover
    const r = options.hostRehearsals;
    if (r !== undefined && !(Number.isInteger(r) && r >= 0))
      throw new ConfigError(`hostRehearsals must be a whole number ≥ 0, got ${String(r)}.`);
    const layers = ((model.core as unknown as AnyModule).features as { layers: AnyModule[] }).layers;
    this.layers = layers.map((l) => ({
      conv: l.conv as LayerRefs['conv'],
      norm: l.norm as LayerRefs['norm'],
      bias: (l.bias as { bias: tf.Variable }).bias,
      evalAffine: () => (l as unknown as CoreLayer).evalAffine(),
    }));
  }

  /**
   * Whether the ONNX graphs cover this model (and the reason when not, a phrase such as "the ONNX graphs do not
   * cover this model (…)"); with `training`, also whether they compute its training loss (the default Poisson sum).
   */
  static supports(model: CoreReadout, options: { training?: boolean } = {}): { ok: true } | { ok: false; reason: string } {
    let plan: EnginePlan;
    try {
      plan = enginePlan(model, model.sessions[0]!, 1000);
    } catch (e) {
      return { ok: false, reason: `the ONNX graphs do not cover this model (${(e as Error).message})` };
    }
    // the graphs hold dense spatial placement matrices, which grow with the square of the frame size
    for (const [l, p] of plan.layers.entries()) {
      const P = p.hIn * p.wIn;
      const Q = p.hOut * p.wOut;
      const values = Math.max(p.kh * p.kw * Q * P, p.O * Q * p.I * P);
      if (values > MAX_PLACEMENT_VALUES) {
        return {
          ok: false,
          reason: `the ONNX graphs' dense spatial matrices of layer ${l} (${p.hIn}×${p.wIn} frames, ${p.kh}×${p.kw} kernels) would hold ${values.toExponential(1)} values, over the engine's ${MAX_PLACEMENT_VALUES.toExponential(1)}`,
        };
      }
    }
    if (options.training && !model.usesDefaultLoss) return { ok: false, reason: defaultLossOnly(model) };
    return { ok: true };
  }

  /**
   * The ONNX Runtime session of a graph. A graph is a function of its plan alone (shapes, kernel sizes,
   * nonlinearity; the weights are inputs; the neuron count is a symbolic dimension), so all readout sessions of a
   * model share one session per graph kind and length: at 50 sessions a cache per session name held 50 copies of
   * each graph and its memory arena, and the bundled dataset's two sessions (24 and 32 neurons) built each graph
   * twice.
   */
  private session(kind: EngineGraphKind | 'forward-weights' | 'vjp-fixed', session: string, T: number): Promise<OrtSessionLike> {
    const plan: EnginePlan = enginePlan(this.model, session, T);
    const { key, planKey } = this.sessionKey(kind, session, T, plan);
    let s = this.sessions.get(key);
    if (!s) {
      const bytes =
        kind === 'forward'
          ? buildEngineForwardGraph(plan)
          : kind === 'forward-weights'
            ? buildEngineForwardWeightsGraph(plan)
            : kind === 'vjp' || kind === 'vjp-fixed'
              ? this.vjpHalf(kind, plan, planKey)
              : buildEngineGraph(plan, kind);
      s = this.options.ort.InferenceSession.create(bytes, {
        intraOpNumThreads: this.options.threads ?? 2,
        interOpNumThreads: 1,
        graphOptimizationLevel: optimizationLevel(kind, plan),
        executionMode: 'sequential',
        ...(this.options.executionProviders ? { executionProviders: [...this.options.executionProviders] } : {}),
        ...this.options.sessionOptions,
      });
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  /** The key of a graph's session in {@link sessions} (its kind and `planKey`, what the graph depends on). */
  private sessionKey(
    kind: EngineGraphKind | 'forward-weights' | 'vjp-fixed',
    session: string,
    T: number,
    plan = enginePlan(this.model, session, T),
  ): { key: string; planKey: string } {
    // the weights graph does not depend on the length itself (see forwardWeightsKey)
    const planKey = kind === 'forward-weights' ? this.forwardWeightsKey(session, T) : JSON.stringify(graphKeyPlan(plan));
    return { key: `${kind}|${planKey}`, planKey };
  }

  /** One half of the input-gradient graph: the graph is built and split once for both. */
  private vjpHalf(kind: 'vjp' | 'vjp-fixed', plan: EnginePlan, planKey: string): Uint8Array {
    let halves = this.vjpHalves.get(planKey);
    if (!halves) {
      halves = splitGraph(buildEngineGraph(plan, 'vjp'), [n.x, n.cotangent]);
      this.vjpHalves.set(planKey, halves);
    }
    const other = kind === 'vjp' ? 'vjp-fixed' : 'vjp';
    if (this.sessions.has(`${other}|${planKey}`)) this.vjpHalves.delete(planKey);
    return kind === 'vjp' ? halves.rest : halves.fixed;
  }

  /** {@link forwardWeightsKey} of a stimulus length (the same for every session: it leaves the readout out). */
  private forwardWeightsKey(session: string, T: number): string {
    let key = this.weightsKeys.get(T);
    if (key === undefined) {
      key = forwardWeightsKey(enginePlan(this.model, session, T));
      this.weightsKeys.set(T, key);
    }
    return key;
  }

  /** The session's readout (enginePlan, which every graph goes through, has checked that there is one). */
  private readoutOf(session: string): AnyModule {
    return this.model.readout.readout!(session) as unknown as AnyModule;
  }

  /** The readout's effective weight `[c·Q, N]` (row `ch·Q + q`), a differentiable tensor. */
  private readoutWeight(session: string): tf.Tensor2D {
    const r = this.readoutOf(session);
    const mask = (r.mask as () => tf.Tensor3D).call(r); // [N, h, w]
    const [N, h, w] = mask.shape;
    const c = this.model.core.outChannels;
    const maskT = tf.reshape(tf.transpose(tf.reshape(mask, [N, h * w])), [1, h * w, N]);
    const feats = tf.reshape(r.features as tf.Variable, [c, 1, N]);
    return tf.reshape(tf.mul(tf.mul(feats, maskT), tf.reshape(r.scaleParam as tf.Variable, [1, 1, N])), [c * h * w, N]) as tf.Tensor2D;
  }

  /**
   * Graph weight inputs as TF.js tensors (differentiable functions of the parameters). `only`: just these (the
   * training step computes the temporal kernels on the host and differentiates a few weights only; it feeds the
   * weights that are parameters themselves from {@link parameterInputs}). `train`: without the eval BatchNorm's scale
   * and shift.
   */
  private weightTensors(session: string, train: boolean, only?: ReadonlySet<string>): Map<string, tf.Tensor> {
    const w = new Map<string, tf.Tensor>();
    const want = (name: string): boolean => !only || only.has(name);
    this.layers.forEach((l, i) => {
      const ws = l.conv.weightSpatial;
      if (want(n.wt(i))) w.set(n.wt(i), l.conv.temporalKernel(session));
      if (want(n.ws(i))) w.set(n.ws(i), tf.reshape(ws, spatialKernelDims(ws)));
      if (!train) {
        // the fold the exporter and the WebAssembly predictor use too
        const affine = l.evalAffine();
        if (!affine) throw new ConfigError('Eval-mode ONNX graphs need BatchNorm running statistics.');
        w.set(n.scale(i), tensorFromHost(affine.scale, [affine.scale.length]));
        w.set(n.shift(i), tensorFromHost(affine.shift, [affine.shift.length]));
      }
    });
    if (want(n.readoutWeight)) w.set(n.readoutWeight, this.readoutWeight(session));
    if (want(n.readoutBias)) w.set(n.readoutBias, this.readoutOf(session).bias as tf.Tensor1D);
    return w;
  }

  /**
   * Training-graph weights that are a parameter itself, up to a reshape (spatial kernels, BatchNorm affine, biases,
   * readout bias), with the dims the graph takes them in: the graph's gradient of such a weight is the parameter's,
   * so the chain rule leaves them out.
   */
  private parameterInputs(session: string): ParameterInputs {
    const w: ParameterInputs = new Map();
    this.layers.forEach((l, i) => {
      const ws = l.conv.weightSpatial;
      w.set(n.ws(i), { value: ws, dims: spatialKernelDims(ws) });
      w.set(n.gamma(i), { value: l.norm.weight, dims: l.norm.weight.shape });
      w.set(n.beta(i), { value: l.norm.bias, dims: l.norm.bias.shape });
      w.set(n.bias(i), { value: l.bias, dims: [l.norm.weight.shape[0]!] });
    });
    const rb = this.readoutOf(session).bias as tf.Tensor1D;
    w.set(n.readoutBias, { value: rb, dims: rb.shape });
    return w;
  }

  /**
   * ORT tensors of {@link parameterInputs}, straight from the parameters' host values: no TF.js kernels (their
   * reshapes and bookkeeping took ~0.4 ms per step on wasm).
   */
  private async parameterFeeds(inputs: ParameterInputs): Promise<Record<string, unknown>> {
    const feeds: Record<string, unknown> = {};
    for (const [name, { value, dims }] of inputs) feeds[name] = this.tensor(await readFloats(value), dims);
    return feeds;
  }

  /** Layer `l`'s sin/cos basis `[K, L]` at the session's log speed (recomputed when that value changes). */
  private async basis(l: number, session: string): Promise<{ sines: Float32Array; cosines: Float32Array }> {
    const conv = this.layers[l]!.conv;
    const logSpeed = (await readFloats(conv.logSpeed(session)))[0]!;
    const cached = this.bases.get(l);
    if (cached && Object.is(cached.logSpeed, logSpeed)) return cached;
    const b = temporalBasis(conv.logSpeed(session), conv.temporalKernelSize, conv.numFreqs);
    const entry = {
      logSpeed,
      sines: Float32Array.from(await readFloats(b.sines)),
      cosines: Float32Array.from(await readFloats(b.cosines)),
    };
    tf.dispose([b.sines, b.cosines]);
    this.bases.set(l, entry);
    return entry;
  }

  /**
   * Each layer's temporal kernel `[O, I, L]` = `sin · S + cos · C` on the host, the basis it came from (at the
   * session's log speed) and the sin/cos coefficients (the chain rule and the core penalty of the same step use them
   * again).
   */
  private async temporalKernelValues(session: string): Promise<TemporalKernelValues[]> {
    const kernels: TemporalKernelValues[] = [];
    for (const [i, l] of this.layers.entries()) {
      const { sines, cosines } = await this.basis(i, session);
      const sin = Float32Array.from(await readFloats(l.conv.sinWeights));
      const cos = Float32Array.from(await readFloats(l.conv.cosWeights));
      kernels.push({ kernel: kernelFromBasis(sin, sines, cos, cosines, l.conv.numFreqs), sines, cosines, sin, cos });
    }
    return kernels;
  }

  private detachedWeights(session: string, train: boolean, only?: ReadonlySet<string>): Map<string, tf.Tensor> {
    return new Map(
      Object.entries(tf.tidy(() => Object.fromEntries(this.weightTensors(session, train, only)) as Record<string, tf.Tensor>)),
    );
  }

  private tensor(data: Float32Array, dims: readonly number[]): unknown {
    return new this.options.ort.Tensor('float32', data, dims);
  }

  private clampPositive(session: string): void {
    const r = this.readoutOf(session);
    if (r.positive) tf.tidy(() => (r.features as tf.Variable).assign(tf.relu(r.features as tf.Variable)));
  }

  private checkInput(x: { shape: readonly number[] }): void {
    const { channels, height, width } = this.model.stimulus;
    if (x.shape.length !== 5 || x.shape[2] !== height || x.shape[3] !== width || x.shape[4] !== channels) {
      throw new ShapeError(
        `The model expects a stimulus [batch, time, ${height}, ${width}, ${channels}] (channels last), got ${formatShape(x.shape)}.`,
      );
    }
  }

  /** ORT tensors of the graph weights; `copy`: the arrays outlive the tensors (a variable's data may be a live view). */
  private async weightFeeds(weights: Map<string, tf.Tensor>, copy: boolean): Promise<Record<string, unknown>> {
    const feeds: Record<string, unknown> = {};
    const names = [...weights.keys()];
    const datas = await Promise.all(names.map((k) => readFloats(weights.get(k)!)));
    names.forEach(
      (k, i) =>
        (feeds[k] = this.tensor(copy ? Float32Array.from(datas[i] as Float32Array) : (datas[i] as Float32Array), weights.get(k)!.shape)),
    );
    return feeds;
  }

  /**
   * The eval weights of each session, for predictions and input gradients. Repeated predictions and an MEI's steps
   * ask with the model unchanged, so while every parameter and buffer still holds the data a session's entry was
   * last checked against, the entry is reused without reading and comparing the state (at the bench model ~0.6 ms of a
   * 32 × 50 prediction's ~16). Otherwise the stale sessions' positive readouts are clamped and the state is read once
   * for all of them; an entry whose recorded values that reading still has is kept.
   */
  private async currentEvalWeights(sessions: readonly string[]): Promise<Map<string, EvalEntry>> {
    const vars = floatStateVariables(this.model);
    const entries = new Map<string, EvalEntry>();
    const stale: string[] = [];
    for (const s of new Set(sessions)) {
      const known = this.evalCache.get(s);
      if (known?.state.holdsData(vars)) entries.set(s, known);
      else stale.push(s);
    }
    if (stale.length === 0) return entries;
    for (const s of stale) this.clampPositive(s);
    const reading = await readState(vars);
    // one record for all the entries made from this reading (the state is that of the whole model: a copy per
    // session was ~150 ms of a 50-session validation in fresh memory)
    let record: StateRecord | undefined;
    for (const s of stale) {
      const known = this.evalCache.get(s);
      if (known?.state.matches(reading)) {
        entries.set(s, known);
        continue;
      }
      record ??= new StateRecord(reading);
      entries.set(s, await this.evalWeights(s, record));
    }
    return entries;
  }

  /**
   * New eval weights of `session` (temporal kernels from their basis, Gaussian masks, folded BatchNorm) as graph
   * feeds, computed from the model's current `state`; they replace the session's entry.
   */
  private async evalWeights(session: string, state: StateRecord): Promise<EvalEntry> {
    const weights = this.detachedWeights(session, false);
    const feeds = await this.weightFeeds(weights, true);
    tf.dispose([...weights.values()].filter((t) => !(t instanceof tf.Variable)));
    const entry: EvalEntry = { state, feeds, forward: new Map(), vjp: new Map() };
    this.evalCache.set(session, entry);
    return entry;
  }

  /** Feeds of the forward graph: the stimulus, the readout and the layers' matrices (from the weights graph, cached). */
  private async forwardFeeds(x: tf.Tensor5D, xValues: Float32Array, session: string, entry?: EvalEntry): Promise<Record<string, unknown>> {
    entry ??= (await this.currentEvalWeights([session])).get(session)!;
    const T = x.shape[1];
    const key = this.forwardWeightsKey(session, T);
    let weights = entry.forward.get(key);
    if (!weights) {
      const ws = await this.session('forward-weights', session, T);
      const out = await ws.run(pick(entry.feeds, ws.inputNames));
      weights = { ...out, [n.readoutWeight]: entry.feeds[n.readoutWeight], [n.readoutBias]: entry.feeds[n.readoutBias] };
      entry.forward.set(key, weights);
    }
    return { ...weights, [n.x]: this.tensor(xValues, x.shape) };
  }

  async lossAndGrads(
    inputs: tf.Tensor5D,
    targets: tf.Tensor3D,
    session: string,
    params?: ReadonlyMap<string, tf.Variable>,
  ): Promise<LossAndGradients> {
    if (!this.model.usesDefaultLoss)
      throw new UnsupportedError(`The ONNX engine cannot train this model: ${defaultLossOnly(this.model)}; use the TF.js engine.`);
    this.checkInput(inputs);
    this.model.readout.numNeurons(session);
    if (!this.sessions.has(this.sessionKey('train', session, inputs.shape[1]).key)) {
      for (let i = 0; i < (this.options.hostRehearsals ?? HOST_REHEARSALS); i++) {
        const r = await this.trainStep(inputs, targets, session, params, undefined);
        tf.dispose([...r.grads.values()]);
      }
    }
    return this.trainStep(inputs, targets, session, params, await this.session('train', session, inputs.shape[1]));
  }

  /**
   * One training step through the graph's session, or with `ortSession` undefined a rehearsal of its host side
   * (see {@link HOST_REHEARSALS}): the graph's outputs are zeros, and nothing of the model changes (no clamp of the
   * readout features, no BatchNorm running statistics).
   */
  private async trainStep(
    inputs: tf.Tensor5D,
    targets: tf.Tensor3D,
    session: string,
    params: ReadonlyMap<string, tf.Variable> | undefined,
    ortSession: OrtSessionLike | undefined,
  ): Promise<LossAndGradients> {
    const vars = params ?? this.model.parametersForSession(session);
    if (ortSession) this.clampPositive(session);
    // the temporal kernels on the host (a few hundred multiply-adds; in TF.js ~20 kernels each), the rest in TF.js
    const kernels = await this.temporalKernelValues(session);
    const kernelShape = (l: number): number[] => {
      const c = this.layers[l]!.conv;
      return [c.outChannels, c.inChannels, c.temporalKernelSize];
    };
    // the readout's masked weight and both penalties on host arrays when the plan allows (exactly the classes whose
    // formulas host-mask-readout.ts and host-core-penalty.ts repeat); else all three in TF.js, as the tape then
    // always reaches a variable through the readout weight
    const hostCore = await this.hostCoreSettings();
    const hostReadout = hostCore ? await this.hostReadout(session) : undefined;
    const parameters = this.parameterInputs(session); // fed as they are; their gradients are the parameters'
    const readoutWeight = hostReadout ? undefined : this.detachedWeights(session, true, new Set([n.readoutWeight]));
    // the batch is staged in a reused host buffer, as predictions' stimuli are (fresh memory per step is slow)
    let stimulus: { data: Float32Array; release: () => void } | undefined;
    let target: { data: Float32Array; release: () => void } | undefined;
    let res: Record<string, OrtTensorLike>;
    try {
      stimulus = await this.stimuli.take(inputs);
      const feeds: Record<string, unknown> = {
        [n.x]: this.tensor(stimulus.data, inputs.shape),
        ...(await this.parameterFeeds(parameters)),
      };
      if (readoutWeight) Object.assign(feeds, await this.weightFeeds(readoutWeight, false));
      kernels.forEach((k, l) => (feeds[n.wt(l)] = this.tensor(k.kernel, kernelShape(l))));
      if (hostReadout) feeds[n.readoutWeight] = this.tensor(hostReadout.mask.weight, [hostReadout.rows, hostReadout.values.scale.length]);
      target = await this.targetCopies.take(targets);
      feeds[n.targets] = this.tensor(target.data, targets.shape);
      res = ortSession ? await ortSession.run(feeds) : rehearsalOutputs(feeds, this.layers.length);
    } finally {
      stimulus?.release();
      target?.release();
      if (readoutWeight) tf.dispose([...readoutWeight.values()]);
    }
    const get = (name: string): OrtTensorLike => {
      const t = res[name];
      if (!t) throw new ConfigError(`The engine graph has no output ${name}.`);
      return t;
    };
    const poisson = (get(n.loss).data as Float32Array)[0]!;
    // BatchNorm running statistics, as a TF.js training forward updates them: on the host, each product and sum
    // rounded to float32 as TF.js's kernels round them (the same values, no kernels).
    const B = inputs.shape[0];
    if (this.model.training && ortSession) {
      const plans = enginePlan(this.model, session, inputs.shape[1]).layers; // once per step, not per layer
      for (const [i, l] of this.layers.entries()) {
        const { runningMean: rm, runningVar: rv, numBatchesTracked: nbt, momentum: m } = l.norm;
        if (!rm || !rv || !nbt) continue;
        const plan = plans[i]!;
        const count = B * plan.tOut * plan.hOut * plan.wOut;
        const f = Math.fround;
        const [keep, rate, unbias] = [f(1 - m), f(m), f(count / Math.max(count - 1, 1))];
        const mean = get(n.batchMean(i)).data as Float32Array;
        const variance = get(n.batchVar(i)).data as Float32Array;
        const oldMean = Float32Array.from(await readFloats(rm));
        const oldVar = Float32Array.from(await readFloats(rv));
        const steps = (await readFloats(nbt))[0]!;
        const newMean = oldMean.map((v, j) => f(v * keep) + f(mean[j]! * rate));
        const newVar = oldVar.map((v, j) => f(v * keep) + f(f(variance[j]! * unbias) * rate));
        tf.tidy(() => {
          rm.assign(tensorFromHost(newMean, rm.shape));
          rv.assign(tensorFromHost(newVar, rv.shape));
          nbt.assign(tf.tensor(Int32Array.of(steps + 1), nbt.shape, 'int32'));
        });
      }
    }
    // The chain rule to the parameters, on the host where it can be (each TF.js kernel being costly on a short
    // step): a parameter fed as it is (up to a reshape) takes the graph's gradient, a temporal kernel
    // `sin · S + cos · C` with a constant basis gives `d sin = d wt · Sᵀ`, `d cos = d wt · Cᵀ`, the readout's masked
    // weight and the penalties have their host backward. TF.js differentiates what is left: a temporal kernel whose
    // log speed trains, and a readout or core whose weight or penalty the host does not cover.
    const trained = new Set([...vars.values()].filter((v) => v.trainable));
    const onHost = new Map<tf.Variable, Float64Array>();
    const addOnHost = (v: tf.Variable, g: ArrayLike<number>): void => {
      if (!trained.has(v)) return;
      const sum = onHost.get(v);
      if (!sum) {
        const first = new Float64Array(g.length);
        first.set(g); // a typed array's conversion in one native copy (`Float64Array.from` goes through its iterator)
        onHost.set(v, first);
      } else for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + g[i]!;
    };
    // a readout bias may be a constant: only variables get a gradient
    for (const [name, { value }] of parameters) if (value instanceof tf.Variable) addOnHost(value, get(n.grad(name)).data as Float32Array);
    const upstream = new Map<string, tf.Tensor>();
    let readoutPenalty: number | undefined;
    if (hostReadout) {
      const { mask, values, readout, reduction } = hostReadout;
      const fromWeight = mask.backward(get(n.grad(n.readoutWeight)).data as Float32Array);
      const penalty = maskReadoutPenalty(values, readout.maskL1Reg, readout.featureWeightsL1Reg, reduction);
      readoutPenalty = penalty.value;
      addOnHost(readout.maskMean, fromWeight.maskMean);
      addOnHost(readout.maskLogVar, fromWeight.maskLogVar);
      addOnHost(readout.features, fromWeight.features);
      addOnHost(readout.scaleParam, fromWeight.scale);
      addOnHost(readout.maskMean, penalty.grads.maskMean);
      addOnHost(readout.maskLogVar, penalty.grads.maskLogVar);
      addOnHost(readout.features, penalty.grads.features);
    } else {
      upstream.set(n.readoutWeight, tf.tensor(get(n.grad(n.readoutWeight)).data as Float32Array, [...get(n.grad(n.readoutWeight)).dims]));
    }
    for (const [i, l] of this.layers.entries()) {
      const dwt = get(n.grad(n.wt(i))).data as Float32Array;
      if (trained.has(l.conv.logSpeed(session))) upstream.set(n.wt(i), tf.tensor(dwt, kernelShape(i)));
      else {
        const { sines, cosines } = kernels[i]!;
        const K = l.conv.numFreqs;
        if (trained.has(l.conv.sinWeights)) addOnHost(l.conv.sinWeights, timesTransposed(dwt, sines, K));
        if (trained.has(l.conv.cosWeights)) addOnHost(l.conv.cosWeights, timesTransposed(dwt, cosines, K));
      }
    }
    let corePenaltyValue: number | undefined;
    if (hostCore && hostReadout) {
      const penalty = corePenalty(await this.coreLayerValues(kernels), hostCore);
      corePenaltyValue = penalty.value;
      penalty.grads.forEach((g, i) => {
        const conv = this.layers[i]!.conv;
        if (g.ws) addOnHost(conv.weightSpatial, g.ws);
        if (g.sin) addOnHost(conv.sinWeights, g.sin);
        if (g.cos) addOnHost(conv.cosWeights, g.cos);
      });
    }
    let grads: tf.NamedTensorMap = {};
    const taped: tf.Scalar[] = [];
    if (!hostReadout || upstream.size > 0) {
      const r = tf.variableGrads(() => {
        const w = this.weightTensors(session, true, new Set(upstream.keys()));
        let s: tf.Scalar = tf.scalar(0);
        for (const [name, t] of upstream) s = tf.add(s, tf.sum(tf.mul(w.get(name)!, t)));
        const core = hostReadout ? tf.scalar(0) : this.model.core.regularizer();
        const readout = hostReadout ? tf.scalar(0) : this.model.readout.regularizer(session);
        taped.push(tf.keep(core), tf.keep(readout));
        return tf.addN([s, core, readout]) as tf.Scalar;
      }, [...vars.values()]);
      grads = r.grads;
      r.value.dispose();
    }
    for (const [v, sum] of onHost) {
      const g = tensorFromHost(Float32Array.from(sum), v.shape);
      const fromTape = grads[v.name];
      grads[v.name] = fromTape ? tf.add(fromTape, g) : g;
      if (fromTape) tf.dispose([fromTape, g]);
    }
    let [core, readout] = [corePenaltyValue ?? 0, readoutPenalty ?? 0];
    if (taped.length > 0) {
      const stacked = tf.stack(taped);
      const values = await readFloats(stacked);
      core = corePenaltyValue ?? values[0]!;
      readout = readoutPenalty ?? values[1]!;
      tf.dispose([stacked, ...taped]);
    }
    tf.dispose([...upstream.values()]);
    return {
      total: poisson + core + readout,
      data: poisson,
      regularizers: { core, readout },
      grads: gradsByName(vars, grads),
    };
  }

  /**
   * The session's readout weight on the host, when its readout is exactly a `GaussianMaskReadout` inside a
   * `MultiReadoutBase` whose penalty is that readout's (what host-mask-readout.ts computes); else undefined.
   */
  private async hostReadout(
    session: string,
  ): Promise<
    { readout: GaussianMaskReadout; values: MaskReadoutValues; mask: HostMaskReadout; rows: number; reduction: 'sum' | 'mean' } | undefined
  > {
    const multi = this.model.readout as unknown;
    if (!(multi instanceof MultiReadoutBase) || multi.regularizer !== MultiReadoutBase.prototype.regularizer) return undefined;
    const readout = this.readoutOf(session) as unknown;
    if (!(readout instanceof GaussianMaskReadout) || Object.getPrototypeOf(readout) !== GaussianMaskReadout.prototype) return undefined;
    const c = this.model.core.outChannels;
    const values: MaskReadoutValues = {
      maskMean: await readFloats(readout.maskMean),
      maskLogVar: await readFloats(readout.maskLogVar),
      grid: await readFloats(readout.grid),
      features: await readFloats(readout.features),
      scale: await readFloats(readout.scaleParam),
      meanScale: readout.gaussianMeanScale,
      varScale: readout.gaussianVarScale,
      c,
    };
    const mask = new HostMaskReadout(values);
    return { readout, values, mask, rows: mask.weight.length / values.scale.length, reduction: multi.readoutRegAvg ? 'mean' : 'sum' };
  }

  /** The core penalty's settings when the core is exactly a `SimpleCoreWrapper` (host-core-penalty.ts); else undefined. */
  private async hostCoreSettings(): Promise<CorePenaltySettings | undefined> {
    const core = this.model.core as unknown;
    if (!(core instanceof SimpleCoreWrapper) || Object.getPrototypeOf(core) !== SimpleCoreWrapper.prototype) return undefined;
    if (core.convolutionType !== 'custom_separable') return undefined; // its temporal penalty is on the sin/cos weights
    const { gammaInput, gammaHidden, gammaTemporal, gammaInSparse } = core.options;
    // its input-layer Laplace filter (a persistent buffer: a checkpoint may hold it)
    const laplace = (core as unknown as { spatialRegularizer: { laplace: { filter: tf.Variable; filterSize: number; padding: number } } })
      .spatialRegularizer.laplace;
    return {
      gammaInput,
      gammaHidden,
      gammaTemporal,
      gammaInSparse,
      laplace: { filter: await readFloats(laplace.filter), size: laplace.filterSize, padding: laplace.padding },
    };
  }

  /** Each layer's spatial kernels and sin/cos coefficients on the host (the core penalty's inputs). */
  private async coreLayerValues(kernels: readonly TemporalKernelValues[]): Promise<CoreLayerValues[]> {
    const out: CoreLayerValues[] = [];
    for (const [i, { conv }] of this.layers.entries()) {
      const [kh, kw] = conv.spatialKernel;
      out.push({
        ws: await readFloats(conv.weightSpatial),
        O: conv.outChannels,
        I: conv.inChannels,
        kh,
        kw,
        sin: kernels[i]!.sin,
        cos: kernels[i]!.cos,
        K: conv.numFreqs,
      });
    }
    return out;
  }

  async inputGradient(x: tf.Tensor5D, session: string, cotangent: tf.Tensor3D): Promise<InputGradient> {
    this.checkInput(x);
    this.model.readout.numNeurons(session);
    const ortSession = await this.session('vjp', session, x.shape[1]);
    const stimulus = await this.stimuli.take(x);
    let res: InputGradientValues;
    try {
      res = await this.runInputGradient(ortSession, stimulus.data, x.shape, session, await readFloats(cotangent), cotangent.shape);
    } finally {
      stimulus.release();
    }
    return { output: tf.tensor3d(res.output, [...res.outputShape]), grad: tf.tensor5d(res.grad, x.shape) };
  }

  /** {@link inputGradient} on host arrays: no TF.js tensor in or out, so an MEI's host step skips the conversions. */
  async inputGradientValues(
    x: Float32Array,
    shape: readonly [number, number, number, number, number],
    session: string,
    cotangent: Float32Array,
  ): Promise<InputGradientValues> {
    this.checkInput({ shape });
    const N = this.model.readout.numNeurons(session);
    const size = shape.reduce((a, b) => a * b, 1);
    if (x.length !== size)
      throw new ShapeError(`inputGradientValues: the stimulus has ${x.length} values, its shape ${formatShape(shape)} holds ${size}.`);
    const ortSession = await this.session('vjp', session, shape[1]);
    const cotangentShape = [shape[0], shape[1] - this.model.framesCut, N];
    if (cotangent.length !== cotangentShape.reduce((a, b) => a * b, 1))
      throw new ShapeError(
        `inputGradientValues: the cotangent has ${cotangent.length} values, expected ${formatShape(cotangentShape)} (the responses to a ${formatShape(shape)} stimulus).`,
      );
    return this.runInputGradient(ortSession, x, shape, session, cotangent, cotangentShape);
  }

  private async runInputGradient(
    ortSession: OrtSessionLike,
    x: Float32Array,
    shape: readonly number[],
    session: string,
    cotangent: Float32Array,
    cotangentShape: readonly number[],
  ): Promise<InputGradientValues> {
    const entry = (await this.currentEvalWeights([session])).get(session)!;
    // the graph's part that depends on the weights alone runs once per weight state and length
    let fixed = entry.vjp.get(shape[1]!);
    if (!fixed) {
      const fs = await this.session('vjp-fixed', session, shape[1]!);
      fixed = await fs.run(pick(entry.feeds, fs.inputNames));
      entry.vjp.set(shape[1]!, fixed);
    }
    const feeds = { ...entry.feeds, ...fixed, [n.x]: this.tensor(x, shape), [n.cotangent]: this.tensor(cotangent, cotangentShape) };
    const res = await ortSession.run(pick(feeds, ortSession.inputNames));
    const out = res[n.output]!;
    return {
      output: out.data as Float32Array,
      outputShape: out.dims as unknown as [number, number, number],
      grad: res[n.inputGrad]!.data as Float32Array,
    };
  }

  async predict(x: tf.Tensor5D, session: string): Promise<tf.Tensor3D> {
    this.checkInput(x);
    this.model.readout.numNeurons(session);
    const ortSession = await this.session('forward', session, x.shape[1]);
    const stimulus = await this.stimuli.take(x);
    let out: OrtTensorLike;
    try {
      out = (await ortSession.run(await this.forwardFeeds(x, stimulus.data, session)))[n.output]!;
    } finally {
      stimulus.release();
    }
    return tf.tensor3d(out.data as Float32Array, out.dims as [number, number, number]);
  }

  /**
   * Eval-mode responses of several sessions to one stimulus (see `ComputeEngine.predictSessions`). Sessions whose
   * core weights are equal (no session-specific temporal speed) run as one forward: the graph's neuron dimension is
   * symbolic, so their readout weights are concatenated along it and the output is split per session. At 50
   * sessions recorded with one movie that is one core forward instead of 50.
   */
  async predictSessions(x: tf.Tensor5D, sessions: readonly string[]): Promise<tf.Tensor3D[]> {
    this.checkInput(x);
    for (const s of sessions) this.model.readout.numNeurons(s);
    if (sessions.length <= 1) return Promise.all(sessions.map((s) => this.predict(x, s)));
    const entries = await this.currentEvalWeights(sessions); // the state read once for all sessions, not once each
    const outputs = new Map<string, tf.Tensor3D>();
    const stimulus = await this.stimuli.take(x);
    try {
      for (const group of groupsByCore(sessions, entries, this.layers.length)) {
        const ortSession = await this.session('forward', group[0]!, x.shape[1]);
        const groupEntries = group.map((s) => entries.get(s)!);
        const feeds = await this.forwardFeeds(x, stimulus.data, group[0]!, groupEntries[0]);
        Object.assign(feeds, this.groupReadout(group, groupEntries));
        const out = (await ortSession.run(feeds))[n.output]!;
        const [B, T] = out.dims as [number, number, number];
        const counts = groupEntries.map((e) => (e.feeds[n.readoutBias] as OrtTensorLike).dims[0]!);
        splitNeurons(out.data as Float32Array, B * T, counts).forEach((d, i) => outputs.set(group[i]!, tf.tensor3d(d, [B, T, counts[i]!])));
      }
    } catch (e) {
      tf.dispose([...outputs.values()]);
      throw e;
    } finally {
      stimulus.release();
    }
    return sessions.map((s, i) => (sessions.indexOf(s) === i ? outputs.get(s)! : tf.clone(outputs.get(s)!)));
  }

  /** The readout weight `[c·Q, ΣN]` and bias `[ΣN]` of a group of sessions, side by side in the group's order. */
  private groupReadout(group: readonly string[], entries: EvalEntry[]): Record<string, unknown> {
    const key = group.join('\0');
    const cached = this.groupReadouts.get(key);
    if (cached?.entries.every((e, i) => e === entries[i])) return cached.feeds;
    const ws = entries.map((e) => e.feeds[n.readoutWeight] as OrtTensorLike);
    const bs = entries.map((e) => e.feeds[n.readoutBias] as OrtTensorLike);
    const rows = ws[0]!.dims[0]!;
    const counts = bs.map((b) => b.dims[0]!);
    const total = counts.reduce((a, b) => a + b, 0);
    const w = new Float32Array(rows * total);
    const b = new Float32Array(total);
    let offset = 0;
    ws.forEach((t, i) => {
      const d = t.data as Float32Array;
      const c = counts[i]!;
      for (let r = 0; r < rows; r++) w.set(d.subarray(r * c, (r + 1) * c), r * total + offset);
      b.set(bs[i]!.data as Float32Array, offset);
      offset += c;
    });
    const feeds = { [n.readoutWeight]: this.tensor(w, [rows, total]), [n.readoutBias]: this.tensor(b, [total]) };
    this.groupReadouts.set(key, { entries, feeds });
    return feeds;
  }

  dispose(): void {
    this.evalCache.clear();
    this.bases.clear();
    this.stimuli.clear();
    this.targetCopies.clear();
    this.groupReadouts.clear();
    for (const s of this.sessions.values()) void s.then((x) => x.release?.()).catch(() => undefined);
    this.sessions.clear();
    this.vjpHalves.clear();
  }
}

/**
 * Sessions in groups whose core feeds (every layer's eval weights) hold equal values, each group in the order its
 * sessions first appear; a session named twice is computed once.
 */
function groupsByCore(sessions: readonly string[], entries: ReadonlyMap<string, EvalEntry>, layers: number): string[][] {
  const coreNames = Array.from({ length: layers }, (_, i) => [n.wt(i), n.ws(i), n.scale(i), n.shift(i)]).flat();
  const sameCore = (a: EvalEntry, b: EvalEntry): boolean =>
    coreNames.every((k) =>
      sameValues((a.feeds[k] as OrtTensorLike).data as Float32Array, (b.feeds[k] as OrtTensorLike).data as Float32Array),
    );
  const groups: string[][] = [];
  for (const s of new Set(sessions)) {
    const group = groups.find((g) => sameCore(entries.get(g[0]!)!, entries.get(s)!));
    if (group) group.push(s);
    else groups.push([s]);
  }
  return groups;
}

/** The feeds a session takes. */
function pick(feeds: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((k) => [k, feeds[k]]));
}

/** `[rows, ΣN]` values split into one `[rows, N_i]` array per count. */
function splitNeurons(data: Float32Array, rows: number, counts: readonly number[]): Float32Array[] {
  const total = counts.reduce((a, b) => a + b, 0);
  let offset = 0;
  return counts.map((c) => {
    const out = new Float32Array(rows * c);
    for (let r = 0; r < rows; r++) out.set(data.subarray(r * total + offset, r * total + offset + c), r * c);
    offset += c;
    return out;
  });
}

/** `sin [rows, K] · S [K, L] + cos [rows, K] · C [K, L]`, each product rounded to float32 before the sum, as TF.js adds its two MatMuls. */
function kernelFromBasis(sin: Float32Array, S: Float32Array, cos: Float32Array, C: Float32Array, K: number): Float32Array {
  const L = S.length / K;
  const rows = sin.length / K;
  const out = new Float32Array(rows * L);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < L; t++) {
      let a = 0;
      let b = 0;
      for (let k = 0; k < K; k++) {
        a += sin[r * K + k]! * S[k * L + t]!;
        b += cos[r * K + k]! * C[k * L + t]!;
      }
      out[r * L + t] = Math.fround(a) + Math.fround(b);
    }
  }
  return out;
}

/** `a [rows, L] · bᵀ` for `b [K, L]`: `[rows, K]` (float64 sums rounded once). */
function timesTransposed(a: Float32Array, b: Float32Array, K: number): Float32Array {
  const L = b.length / K;
  const rows = a.length / L;
  const out = new Float32Array(rows * K);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let t = 0; t < L; t++) s += a[r * L + t]! * b[k * L + t]!;
      out[r * K + k] = s;
    }
  }
  return out;
}

/** Why the graphs cannot train a model with a non-default loss. */
function defaultLossOnly(model: CoreReadout): string {
  return `the ONNX graphs compute only the default loss PoissonLoss3d (sum), the model trains with ${lossClassName(model.lossFunction)} ${JSON.stringify(model.lossFunction)}`;
}
