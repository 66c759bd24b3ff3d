import type { DataInfo } from '@openretina/contracts';
import { buildCoreReadout, type CoreReadout, type CoreReadoutConfig } from '@openretina/models';

const architectures = new WeakMap<CoreReadout, CoreReadoutConfig>();

/** Remembers the OpenRetina architecture config a model was built from (used when saving or exporting it). */
export function rememberArchitecture(model: CoreReadout, architecture: CoreReadoutConfig): CoreReadout {
  architectures.set(model, architecture);
  return model;
}

/** The architecture config recorded for a model built by this package (or by {@link rememberArchitecture}). */
export function architectureOf(model: CoreReadout): CoreReadoutConfig | undefined {
  return architectures.get(model);
}

/** Builds a model from an architecture config (OpenRetina keys) and remembers the config. */
export function buildRemembered(architecture: CoreReadoutConfig, dataInfo?: DataInfo): CoreReadout {
  return rememberArchitecture(buildCoreReadout(architecture, dataInfo ? { dataInfo } : {}), architecture);
}
