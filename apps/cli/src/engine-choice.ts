// The compute engine of a command (`--engine auto|onnx|tfjs`, config key trainer.engine): ONNX Runtime where its
// graphs cover the model (the faster engine on CPU, see bench/RESULTS.md), else TF.js; printed with the reason.
import { ConfigError, type ComputeEngine } from '@openretina/contracts';
import { TfjsEngine, type CoreReadout } from '@openretina/models';
import {
  checkDevice,
  createEngine,
  loadOnnxRuntimeNode,
  onnxSupport,
  parseDevice,
  type Device,
  type EngineChoice,
  type OrtLike,
} from '@openretina/onnx/node';

export type { EngineChoice, Device };
export { parseDevice };

export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'onnx', 'tfjs'];

/** Validates an engine name (from `--engine` or `trainer.engine`). */
export function parseEngineChoice(value: string | undefined, what = '--engine'): EngineChoice {
  const v = value ?? 'auto';
  if (!(ENGINE_CHOICES as readonly string[]).includes(v)) throw new ConfigError(`${what} must be auto, onnx or tfjs, got "${v}".`);
  return v as EngineChoice;
}

/** The chosen engine, its name and why it was chosen. */
export interface ChosenEngine {
  engine: ComputeEngine;
  name: 'onnx' | 'tfjs';
  reason: string;
}

let ortPromise: Promise<OrtLike> | undefined;

/** onnxruntime-node, loaded once per process. */
function onnxRuntime(): Promise<OrtLike> {
  ortPromise ??= loadOnnxRuntimeNode();
  ortPromise.catch(() => (ortPromise = undefined));
  return ortPromise;
}

/**
 * Resolves `choice` for `model`: `tfjs` as asked; `onnx` needs onnxruntime-node and a model the ONNX graphs cover
 * (and, when `training`, a loss they compute: the engine says which), else a ConfigError; `auto` takes ONNX Runtime
 * when all of that holds, else TF.js, saying why.
 */
export async function chooseEngine(
  model: CoreReadout,
  choice: EngineChoice,
  options: { training?: boolean; threads?: number; device?: Device } = {},
): Promise<ChosenEngine> {
  const device = options.device ?? 'cpu';
  if (device !== 'cpu' && choice === 'tfjs')
    throw new ConfigError(
      `--device ${device} runs the ONNX engine; --engine tfjs runs on the TF.js backend (--backend). Drop one of them.`,
    );
  if (choice === 'tfjs') return { engine: new TfjsEngine(model), name: 'tfjs', reason: 'requested' };
  const refuse = (why: string): ChosenEngine => {
    if (device !== 'cpu') throw new ConfigError(`--device ${device} needs the ONNX engine: ${why}.`);
    if (choice === 'onnx') throw new ConfigError(`engine "onnx": ${why}. Use --engine tfjs (or auto).`);
    return { engine: new TfjsEngine(model), name: 'tfjs', reason: `auto: ${why}` };
  };
  const support = onnxSupport(model, options.training === undefined ? {} : { training: options.training });
  if (!support.ok) return refuse(support.reason);
  let ort: OrtLike;
  try {
    ort = await onnxRuntime();
  } catch (e) {
    return refuse(`onnxruntime-node is not available (${(e as Error).message})`);
  }
  await checkDevice(ort, device); // a ConfigError naming what the device lacks
  const engine = createEngine(model, 'onnx', ort, {
    ...(options.training === undefined ? {} : { training: options.training }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(device === 'cpu' ? {} : { device }),
    // No memory pattern: with one, each run after a session's first takes a block of the planned peak size on top
    // of the arena's chunks; in a 4-epoch bundled train run that was ~35 k fresh-page faults and ~140 MB of peak RSS,
    // for the same time per step and prediction (bench/ANALYSIS.md, round four).
    // No spinning after a run: by default ONNX Runtime's worker thread spins ~27 ms of a core after every run, which
    // in a run of this CLI is the time of the host work between runs (validation's predictions and metrics, the
    // optimizer, data, checkpoints, V8's compiler and GC threads). Stopped, the bundled 8-epoch run's validation took
    // 39–48 against 62–82 ms per epoch and the whole run 3.3–4.3 against 3.6–4.6 s, shorter in 11 of 12 alternating
    // pairs (bench/ANALYSIS.md, round sixteen); the workers still spin within a run.
    sessionOptions: { enableMemPattern: false, extra: { session: { force_spinning_stop: '1' } } },
  });
  const on = device === 'cpu' ? '' : `, on ${device}`;
  return {
    engine,
    name: 'onnx',
    reason: `${choice === 'auto' ? 'auto: ONNX Runtime covers this model, the faster engine on CPU' : 'requested'}${on}`,
  };
}

/** `engine: onnx (reason)`, the line the commands print. */
export function describeEngine(chosen: ChosenEngine): string {
  return `engine: ${chosen.name} (${chosen.reason})`;
}
