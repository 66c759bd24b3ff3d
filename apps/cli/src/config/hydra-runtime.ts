import { isAbsolute, join, normalize } from 'node:path';
import { ConfigError } from '@openretina/contracts';
import { resolveInterpolations, resolveKey } from './interpolate.js';
import { clone, isTree, type ConfigTree } from './tree.js';

/** The clock, working directory and environment a composition is resolved under (fixed in tests). */
export interface RuntimeContext {
  now?: Date;
  /** Hydra's `runtime.cwd` (default: process.cwd()). */
  cwd?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/** A composed config, resolved: the job's keys (what OpenRetina's task function gets) and the `hydra` node. */
export interface ResolvedExperiment {
  config: ConfigTree;
  hydra: ConfigTree;
}

/**
 * Resolves a composed config as a Hydra run does: `hydra.run.dir` (resolved, relative to the working directory)
 * becomes `hydra.runtime.output_dir`, which `${hydra:runtime.output_dir}` (OpenRetina's `paths.output_dir`) reads;
 * `hydra.runtime.cwd` is the working directory; then every interpolation is resolved and the `hydra` node is
 * split from the job's keys.
 */
export function resolveExperiment(composed: ConfigTree, context: RuntimeContext = {}): ResolvedExperiment {
  const now = context.now ?? new Date();
  const cwd = context.cwd ?? process.cwd();
  const env = context.env ?? process.env;
  const tree = clone(composed);
  if (!isTree(tree.hydra)) tree.hydra = {};
  const hydra = tree.hydra as ConfigTree;
  const runtime: ConfigTree = isTree(hydra.runtime) ? hydra.runtime : {};
  hydra.runtime = { cwd, ...runtime };
  const dir = resolveKey(tree, 'hydra.run.dir', { now, env });
  if (typeof dir !== 'string') throw new ConfigError(`hydra.run.dir must be a folder path, got ${JSON.stringify(dir)}.`);
  (hydra.runtime as ConfigTree).output_dir = normalize(isAbsolute(dir) ? dir : join(cwd, dir));
  const resolved = resolveInterpolations(tree, { now, env });
  const { hydra: hydraNode, ...config } = resolved;
  return { config, hydra: isTree(hydraNode) ? hydraNode : {} };
}
