import { ConfigError } from '@openretina/contracts';

/** Options of {@link sridharFrameOverhead}. */
export interface FrameOverheadOptions {
  /** Temporal kernel size of the first core layer. */
  numOfFrames: number;
  temporalDilation?: number;
  /** Temporal kernel sizes of the hidden layers (one per layer after the first, or one value for all). */
  hiddenFrames?: number | readonly number[];
  hiddenTemporalDilation?: number | readonly number[];
  /** Number of core layers (default 1 + the number of hidden kernel sizes given). */
  numOfLayers?: number;
}

/** Frames a sample needs before its first target: `(numOfFrames − 1)·dilation + Σ_hidden (f − 1)·d`. */
export function sridharFrameOverhead(o: FrameOverheadOptions): number {
  const layers = o.numOfLayers ?? 1 + (Array.isArray(o.hiddenFrames) ? o.hiddenFrames.length : o.hiddenFrames === undefined ? 0 : 1);
  const hidden = layers - 1;
  const asList = (v: number | readonly number[] | undefined, dflt: number) =>
    Array.isArray(v) ? [...(v as number[])] : new Array<number>(hidden).fill((v as number | undefined) ?? dflt);
  const frames = asList(o.hiddenFrames, o.numOfFrames);
  const dil = asList(o.hiddenTemporalDilation, 1);
  if (frames.length !== hidden || dil.length !== hidden) {
    throw new ConfigError(`Expected ${hidden} hidden kernel sizes and dilations, got ${frames.length} and ${dil.length}.`);
  }
  let reach = 0;
  for (let i = 0; i < hidden; i++) reach += (frames[i]! - 1) * dil[i]!;
  return (o.numOfFrames - 1) * (o.temporalDilation ?? 1) + reach;
}
