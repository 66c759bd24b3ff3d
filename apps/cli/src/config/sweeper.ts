import { isTree, type ConfigTree, type ConfigValue } from './tree.js';

/** What a hyper-parameter search config says about its sweep (`hydra.sweeper` and the chosen sweeper plugin). */
export interface SweeperSettings {
  /** `hydra/sweeper` choice, e.g. `optuna` (null: Hydra's basic sweeper). */
  sweeper: string | null;
  /** `hydra/sweeper/sampler` choice, e.g. `tpe`. */
  sampler: string | null;
  /** The `hydra.sweeper` block as configured (direction, n_trials, params, sampler.seed, ...), resolved. */
  settings: ConfigTree;
  /** The metric the search optimises (`objective_target` of the job config), if set. */
  objectiveTarget: string | null;
  /** Where the sweep's runs go (`hydra.sweep.dir`). */
  dir: string | null;
}

/** The sweeper settings of a resolved experiment (the `hydra` node and job config of {@link resolveExperiment}). */
export function sweeperSettings(resolved: { config: ConfigTree; hydra: ConfigTree }): SweeperSettings {
  const { hydra, config } = resolved;
  const runtime = isTree(hydra.runtime) ? hydra.runtime : {};
  const choices = isTree(runtime.choices) ? runtime.choices : {};
  const nameOrNull = (v: ConfigValue | undefined) => (typeof v === 'string' ? v : null);
  const sweep = isTree(hydra.sweep) ? hydra.sweep : {};
  return {
    sweeper: nameOrNull(choices['hydra/sweeper']),
    sampler: nameOrNull(choices['hydra/sweeper/sampler']),
    settings: isTree(hydra.sweeper) ? hydra.sweeper : {},
    objectiveTarget: nameOrNull(config.objective_target),
    dir: nameOrNull(sweep.dir),
  };
}
