import { ConfigError } from '@openretina/contracts';
import type { Rng } from '@openretina/layers';
import { MultiReadoutBase, type ReadoutInShape } from '@openretina/readout';
import { SpatialXFeature3d, type SpatialXFeature3dOptions } from './readout.js';

/** Options of {@link SpatialXFeature3dReadout}. */
export interface SpatialXFeature3dReadoutOptions extends Omit<SpatialXFeature3dOptions, 'inShape' | 'outDims' | 'seed'> {
  /** Core output `(c, t, h, w)` per session (OpenRetina computes it per session from `input_dimensions`). */
  inShapes: Readonly<Record<string, ReadoutInShape>>;
  nNeuronsDict: Readonly<Record<string, number>>;
  /** Mean responses per session: the readout biases. */
  meanActivityDict?: Readonly<Record<string, Float32Array>> | undefined;
  readoutRegAvg?: boolean;
  seed?: number | Rng;
}

/**
 * OpenRetina's legacy `SpatialXFeature3dReadout`: one {@link SpatialXFeature3d} per session (entries
 * `<session>.*` in insertion order), sorted session keys, per-session regularizer
 * `feature_l1·gamma_readout + mask_l1·gamma_masks` (means with `readout_reg_avg`).
 */
export class SpatialXFeature3dReadout extends MultiReadoutBase<SpatialXFeature3d> {
  readonly readoutOptions: Readonly<SpatialXFeature3dReadoutOptions>;

  constructor(options: SpatialXFeature3dReadoutOptions) {
    const sessions = Object.keys(options.nNeuronsDict);
    const first = sessions[0];
    if (first === undefined) throw new ConfigError('SpatialXFeature3dReadout needs at least one session.');
    const shapes = { ...options.inShapes };
    const base = shapes[first];
    if (!base) throw new ConfigError(`No core output shape for session "${first}".`);
    const { inShapes: _s, nNeuronsDict: _n, meanActivityDict: _m, readoutRegAvg: _r, seed: _seed, ...perReadout } = options;
    super(
      {
        inShape: base,
        nNeuronsDict: options.nNeuronsDict,
        meanActivityDict: options.meanActivityDict,
        readoutRegAvg: options.readoutRegAvg ?? false,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
      },
      ({ session, inShape, outDims, meanActivity, seed }) => {
        const r = new SpatialXFeature3d({ ...perReadout, inShape: shapes[session] ?? inShape, outDims, seed });
        if (r.bias && meanActivity) r.initializeBias(meanActivity);
        return r;
      },
    );
    this.readoutOptions = { ...options };
  }

  /** OpenRetina's `readout_keys()`: the sorted session keys. */
  readoutKeys(): string[] {
    return this.sessions;
  }
}
