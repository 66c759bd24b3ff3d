import { ConfigError, type ComputeEngine, type TrainableModel } from '@openretina/contracts';
import { CoreReadout, TfjsEngine } from '@openretina/models';
import type { OrtLike } from '../ort.js';
import { executionProvidersFor, type Device } from './device.js';
import { OnnxEngine, type OnnxEngineOptions } from './onnx-engine.js';

/** Which compute engine runs the heavy paths: `auto` picks the fastest available one for the model. */
export type EngineChoice = 'auto' | 'onnx' | 'tfjs';

/** Options of {@link createEngine}: the ONNX engine's settings and what the engine is for. */
export interface CreateEngineOptions extends Omit<OnnxEngineOptions, 'ort'> {
  /** The engine will train the model: ONNX Runtime must also compute its training loss (the default Poisson sum). */
  training?: boolean;
  /**
   * Where ONNX Runtime runs the graphs (default `cpu`): sets `executionProviders` (the device's provider, then the
   * CPU) unless those are given. Check first with `checkDevice(ort, device)`, which says what a device lacks.
   */
  device?: Device;
}

/** Whether the ONNX engine covers `model` (for `options.training`, its loss too), and why not. */
export function onnxSupport(model: TrainableModel, options: { training?: boolean } = {}): { ok: true } | { ok: false; reason: string } {
  if (!(model instanceof CoreReadout))
    return {
      ok: false,
      reason: `the ONNX graphs do not cover this model (they cover core-readout models only, got ${model.constructor.name})`,
    };
  return OnnxEngine.supports(model, options);
}

/**
 * Picks the engine: `tfjs` (models' `TfjsEngine`) always works; `onnx` needs onnxruntime and a model the graphs
 * cover (throws a `ConfigError` saying which is missing); `auto` takes ONNX Runtime when both hold (the faster one
 * on CPU, see bench/RESULTS.md), else TF.js.
 */
export function createEngine(model: TrainableModel, choice: EngineChoice, ort?: OrtLike, options: CreateEngineOptions = {}): ComputeEngine {
  const { training, device, ...rest } = options;
  if (device !== undefined && device !== 'cpu' && (choice === 'tfjs' || !ort))
    throw new ConfigError(
      `device "${device}" needs the ONNX engine with onnxruntime passed in; the TF.js engine runs on its TF.js backend (choose that with the backend, not the device).`,
    );
  if (choice === 'tfjs') return new TfjsEngine(model);
  const onnxOptions =
    device === undefined || rest.executionProviders ? rest : { ...rest, executionProviders: executionProvidersFor(device) };
  const support = onnxSupport(model, training === undefined ? {} : { training });
  if (choice === 'onnx') {
    if (!ort) {
      throw new ConfigError(
        'engine "onnx" needs onnxruntime: `npm i onnxruntime-node` and pass `await loadOnnxRuntimeNode()` (from @openretina/onnx/node), or in a browser `npm i onnxruntime-web` and pass `import * as ort from "onnxruntime-web"`.',
      );
    }
    if (!support.ok) throw new ConfigError(`engine "onnx": ${support.reason}.`);
    return new OnnxEngine(model as CoreReadout, { ...onnxOptions, ort });
  }
  if (ort && support.ok) return new OnnxEngine(model as CoreReadout, { ...onnxOptions, ort });
  if (device !== undefined && device !== 'cpu')
    throw new ConfigError(
      `device "${device}" needs the ONNX engine, which cannot run this model: ${support.ok ? 'no onnxruntime' : support.reason}.`,
    );
  return new TfjsEngine(model);
}
