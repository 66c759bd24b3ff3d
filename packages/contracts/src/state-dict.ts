/** Element types a state-dict entry can hold (PyTorch's float32/float64/int64/int32/bool). */
export type StateDtype = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';

export type StateArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * One entry of a state dict: a dense, row-major array with a PyTorch shape.
 * `data.length` equals the product of `shape` (1 for a 0-d tensor).
 */
export interface StateTensor {
  readonly shape: readonly number[];
  readonly dtype: StateDtype;
  readonly data: StateArray;
}

/**
 * A model's parameters and buffers by OpenRetina's (PyTorch) names, in state-dict order, with PyTorch shapes.
 * E.g. `core.features.layer0.conv.sin_weights` → `[16, 2, 7]`. A Map, so keys like `__proto__` are safe.
 */
export type StateDict = Map<string, StateTensor>;

export interface LoadStateDictOptions {
  /** Refuse missing and unexpected keys (default true, as PyTorch). Shape mismatches are always refused. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  readonly missingKeys: readonly string[];
  readonly unexpectedKeys: readonly string[];
}
