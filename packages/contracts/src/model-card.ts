/** The metadata standard stored beside every saved model (`model.json`). */
export interface ModelCard {
  readonly specificationVersion: 'v1';
  readonly format: 'openretina-ts/model-card';
  readonly name?: string;
  readonly description?: string;
  /** The architecture config, keys as in OpenRetina's model configs (`in_shape`, `hidden_channels`, `core`, `readout`, ...). */
  readonly architecture: Readonly<Record<string, unknown>>;
  readonly metadata: ModelMetadata;
  /** The library that wrote the card. */
  readonly library: { readonly name: string; readonly version: string };
  readonly createdAt: string;
}

export interface ModelMetadata {
  readonly neuronsPerSession: Readonly<Record<string, number>>;
  /** Stimulus normalisation applied before the model (z-scoring with these values). */
  readonly normalization?: { readonly mean: number; readonly std: number };
  /** `[C, H, W]` */
  readonly inputShape: readonly [number, number, number];
  readonly responseRateHz?: number;
  readonly stimulusRateHz?: number;
  /** E.g. "natural movie", "white noise", "chirp". */
  readonly stimulusClass?: string;
  readonly species?: string;
  /** Hex SHA-256 of the canonical JSON of config + data description. */
  readonly provenanceHash?: string;
  readonly framesCut?: number;
  /** Mean training response per neuron, by session. */
  readonly meanActivity?: Readonly<Record<string, readonly number[]>>;
  readonly [key: string]: unknown;
}
