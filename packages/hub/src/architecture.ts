import type { DataInfo } from '@openretina/contracts';
import { buildCoreReadout, type CoreReadout, type CoreReadoutConfig } from '@openretina/models';

const architectures = new WeakMap<CoreReadout, CoreReadoutConfig>();
/** The data info a checkpoint was read with (our `DataInfo`) and its OpenRetina form, kept as read (arrays with their shapes). */
const checkpointDataInfos = new WeakMap<CoreReadout, { converted: DataInfo | undefined; openRetina: Record<string, unknown> }>();

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

/** Package-internal: remembers the checkpoint's own `data_info` next to the `DataInfo` made from it. */
export function rememberCheckpointDataInfo(model: CoreReadout, openRetina: Record<string, unknown>): void {
  checkpointDataInfos.set(model, { converted: model.dataInfo, openRetina });
}

/** Package-internal: the checkpoint's own `data_info`, while the model's data info is still the one read with it. */
export function checkpointDataInfoOf(model: CoreReadout): Record<string, unknown> | undefined {
  const entry = checkpointDataInfos.get(model);
  return entry && entry.converted === model.dataInfo ? entry.openRetina : undefined;
}
