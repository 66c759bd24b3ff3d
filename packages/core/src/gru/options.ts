import type { ConvolutionType, Rng } from '@openretina/layers';

/*
 * The options of the conv-GRU cores (OpenRetina's `ConvGRUCore` keyword arguments in camelCase) and how an option
 * value counts as set (Python truthiness, as OpenRetina tests them).
 */

/** `gru_kwargs` of OpenRetina's `ConvGRUCore` (the `GRU_Module` appended when `use_gru` is set). */
export interface GruOptions {
  recChannels: number;
  inputKern: number;
  recKern: number;
  groups?: number;
  gammaRec?: number;
  padInput?: boolean;
}

/** Python truthiness of an OpenRetina option value (`0`, `false`, `null`, `""` and `[]` are false). */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

export interface ConvGRUCoreOptions {
  /** `[in, hidden_1, …, hidden_L]` */
  channels: readonly number[];
  /** Sessions and their neuron counts (only the keys are used: one `log_speed_<session>` each with `batchAdaptation`). */
  nNeuronsDict?: Readonly<Record<string, number>> | null;
  /** A number (every layer) or one per layer; default `[21]`. */
  temporalKernelSizes?: number | readonly number[];
  /** A number (every layer) or one per layer; default `[14]`. */
  spatialKernelSizes?: number | readonly number[];
  gammaHidden?: number;
  gammaInput?: number;
  gammaInSparse?: number;
  gammaTemporal?: number;
  /** Nonlinearity after the last layer too (default true). */
  finalNonlinearity?: boolean;
  bias?: boolean;
  /** Truthy → `(0, k0//2, k0//2)` on the first layer. */
  inputPadding?: unknown;
  /** Truthy → `(0, k//2, k//2)` on hidden layers, with OpenRetina's index shift (see the class doc). */
  hiddenPadding?: unknown;
  batchNorm?: boolean;
  batchNormScale?: boolean;
  batchNormMomentum?: number;
  laplacePadding?: number | null;
  /** One learnable log-speed per session, shared by every convolution. Needs `nNeuronsDict`. */
  batchAdaptation?: boolean;
  useAvgReg?: boolean;
  /** A `torch.nn` class name: ELU (default), ReLU, ReLU6, LeakyReLU, SELU, Softplus, Sigmoid, Tanh, SiLU, Identity. */
  nonlinearity?: string;
  convolutionType?: ConvolutionType | string;
  useGru?: boolean;
  /** A 1×1×1 full convolution (no bias) + nonlinearity after layer 0 (`features.projection`). */
  useProjections?: boolean;
  gruKwargs?: GruOptions | null;
  seed?: number | Rng;
}
