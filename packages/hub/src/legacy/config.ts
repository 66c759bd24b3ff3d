import { ConfigError, FileFormatError, UnsupportedError } from '@openretina/contracts';
import { YAMLSeq, parseDocument, type CollectionTag } from 'yaml';

const PYTHON_TUPLE: CollectionTag = {
  tag: 'tag:yaml.org,2002:python/tuple',
  collection: 'seq',
  nodeClass: YAMLSeq,
  identify: () => false,
};

/** A parsed nnfabrik config: the model function (as OpenRetina resolves it) and the builder's keyword arguments. */
export interface LegacyConfig {
  /** `model_fn` as written in the file, e.g. `nnfabrik_euler.models.models.SFB3d_core_SxF3d_readout`. */
  modelFn: string;
  /** The OpenRetina function it maps to, e.g. `openretina.legacy.models.SFB3d_core_SxF3d_readout`. */
  openRetinaFn: string;
  modelConfig: Record<string, unknown>;
  /** The whole YAML document (other nnfabrik entries such as `dataset_fn`). */
  raw: Record<string, unknown>;
}

const SUPPORTED_BUILDERS = new Set(['SFB3d_core_SxF3d_readout']);

/**
 * Parses a `config_<seed>.yaml` of the nnfabrik ensemble: YAML with PyYAML's `!!python/tuple` (read as a list);
 * any other Python tag (objects, functions) is refused, nothing is ever executed. `model_fn` must have four dotted
 * parts: `nnfabrik_euler.*.*.<fn>` becomes `openretina.legacy.models.<fn>` (OpenRetina's rewrite), `openretina.*.*.<fn>`
 * is kept; the function must be `SFB3d_core_SxF3d_readout`.
 */
export function parseLegacyConfig(text: string, source = 'config'): LegacyConfig {
  const doc = parseDocument(text, { customTags: [PYTHON_TUPLE], uniqueKeys: true });
  if (doc.errors.length) throw new FileFormatError(`${source}: invalid YAML: ${doc.errors[0]!.message}`);
  const unresolved = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (unresolved.length) {
    throw new UnsupportedError(
      `${source}: unsupported YAML tag (only !!python/tuple is read; nothing is executed): ${unresolved[0]!.message.split('\n')[0]}`,
    );
  }
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new FileFormatError(`${source}: expected a YAML mapping at the top level.`);
  const cfg = raw as Record<string, unknown>;
  const modelFn = cfg.model_fn;
  if (typeof modelFn !== 'string') throw new FileFormatError(`${source}: no model_fn string.`);
  const parts = modelFn.split('.');
  if (parts.length !== 4)
    throw new ConfigError(
      `${source}: model_fn "${modelFn}" must have four dotted parts (repo.package.module.function), as OpenRetina expects.`,
    );
  const [repo, , , fn] = parts as [string, string, string, string];
  let openRetinaFn: string;
  if (repo === 'nnfabrik_euler') openRetinaFn = `openretina.legacy.models.${fn}`;
  else if (repo === 'openretina') openRetinaFn = modelFn.replace('hoefling_2024', 'legacy');
  else
    throw new UnsupportedError(
      `${source}: unsupported repository "${repo}" in model_fn "${modelFn}" (nnfabrik_euler or openretina expected).`,
    );
  if (!openRetinaFn.startsWith('openretina.legacy.models.') || !SUPPORTED_BUILDERS.has(fn)) {
    throw new UnsupportedError(
      `${source}: model_fn "${modelFn}" (→ ${openRetinaFn}) is not supported; only ${[...SUPPORTED_BUILDERS].join(', ')} of openretina.legacy.models is.`,
    );
  }
  const modelConfig = cfg.model_config ?? {};
  if (typeof modelConfig !== 'object' || modelConfig === null || Array.isArray(modelConfig))
    throw new FileFormatError(`${source}: model_config is not a mapping.`);
  return { modelFn, openRetinaFn, modelConfig: modelConfig as Record<string, unknown>, raw: cfg };
}
