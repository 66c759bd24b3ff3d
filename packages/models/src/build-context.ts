import type { DataInfo } from '@openretina/contracts';

/** What a core or readout factory receives besides its own config section. */
export interface BuildContext {
  /** `[C, T, H, W]` of the model input (OpenRetina's `in_shape`). */
  inShape: readonly [number, number, number, number];
  nNeuronsDict: Readonly<Record<string, number>>;
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  seed?: number;
}

/** Spatial and temporal filters of one neuron, derived from its spike-triggered average. */
export interface StaFilters {
  /** `[H, W]` row-major: the STA's spatial component (cropped to the stimulus). */
  spatialFilter: Float32Array;
  /** `[T]`: the temporal component. */
  temporalFilter: Float32Array;
  /** Receptive-field centre in stimulus pixels. */
  center: { x: number; y: number };
}

/** How an STA file becomes filters (OpenRetina's `load_sta_and_extract_filters`); supplied by the caller. */
export type StaFilterLoader = (request: {
  staDir: string;
  fileName: string;
  flipSta: boolean;
  /** `[H, W]` of the stimulus. */
  targetShape: readonly [number, number];
  temporalCropFrames: number | null;
  sigmaContour: number;
}) => StaFilters;

/** What a model factory (a `model` section with its own `_target_`) receives. */
export interface ModelBuildContext {
  /** Neurons per session (`n_neurons_dict`, from the data). */
  nNeuronsDict?: Readonly<Record<string, number>>;
  dataInfo?: DataInfo;
  seed?: number;
  /** Reads and fits STA files; the spatial-contrast models need it. */
  loadStaFilters?: StaFilterLoader;
}

/** What a loss factory receives: the data info (cell types for the cell-type loss). */
export interface LossBuildContext {
  dataInfo?: DataInfo;
}
