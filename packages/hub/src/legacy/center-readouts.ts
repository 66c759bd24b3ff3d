import { ConfigError, formatShape, type StateDict, type StateTensor } from '@openretina/contracts';
import type { Module } from '@openretina/layers';

/** OpenRetina's `Center(target_mean, mean_key)`: the value every `mean_key` entry is set to (default `mask_mean` → (0, 0)). */
export interface CenterOptions {
  targetMean?: readonly number[];
  meanKey?: string;
}

/**
 * OpenRetina's `Center`: sets every state-dict entry whose key contains `meanKey` (default `mask_mean`) to
 * `targetMean` broadcast over its last axis (default (0, 0): readout masks centred on the stimulus). Returns the keys
 * it changed. A model without such entries is an error (OpenRetina fails there too).
 */
export function centerReadouts(model: Module, options: CenterOptions = {}): string[] {
  const meanKey = options.meanKey ?? 'mask_mean';
  const target = [...(options.targetMean ?? [0, 0])];
  const sd = model.stateDict();
  const keys = [...sd.keys()].filter((k) => k.includes(meanKey));
  if (keys.length === 0)
    throw new ConfigError(`Center: the model has no state-dict entry containing "${meanKey}" (are its readouts Gaussian masks?).`);
  const updated: StateDict = new Map();
  for (const k of keys) {
    const e = sd.get(k)!;
    const last = e.shape[e.shape.length - 1] ?? 1;
    if (target.length !== 1 && target.length !== last) {
      throw new ConfigError(`Center: target mean ${JSON.stringify(target)} does not broadcast to ${k} ${formatShape(e.shape)}.`);
    }
    const data = new Float32Array(e.data.length);
    for (let i = 0; i < data.length; i++) data[i] = target.length === 1 ? target[0]! : target[i % last]!;
    updated.set(k, { shape: [...e.shape], dtype: 'float32', data } satisfies StateTensor);
  }
  model.loadStateDict(updated, { strict: false });
  return keys;
}
