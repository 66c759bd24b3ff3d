import { ConfigError } from '@openretina/contracts';

/** Our name for the published legacy ensemble (not one of OpenRetina's `.ckpt` names). */
export const LEGACY_HOEFLING_ENSEMBLE_NAME = 'hoefling_2024_ensemble';
/** OpenRetina's default `remote_url` of `load_ensemble_model_from_remote`. */
export const LEGACY_ENSEMBLE_REMOTE_URL = 'https://gin.g-node.org/';
/** OpenRetina's default `model_path` of `load_ensemble_model_from_remote`. */
export const LEGACY_ENSEMBLE_MODEL_PATH = 'eulerlab/rgc-natstim/raw/master/models/nonlinear/9d574ab9fcb85e8251639080c8d402b7';
/** The seeds OpenRetina downloads. */
export const LEGACY_ENSEMBLE_SEEDS: readonly string[] = ['00000', '01000', '02000', '03000', '04000'];

/** `config_<seed>.yaml`, `data_info_<seed>.pkl`, `state_dict_<seed>.pth.tar` for a seed (an integer or its 5-digit form). */
export function legacyMemberFileNames(seed: number | string): { config: string; dataInfo: string; stateDict: string } {
  const tag = formatSeed(seed);
  return { config: `config_${tag}.yaml`, dataInfo: `data_info_${tag}.pkl`, stateDict: `state_dict_${tag}.pth.tar` };
}

/** A seed as OpenRetina formats it in file names (`{seed:05d}`). */
export function formatSeed(seed: number | string): string {
  const n = typeof seed === 'number' ? seed : Number(seed);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`A seed must be a non-negative integer, got ${JSON.stringify(seed)}.`);
  return String(n).padStart(5, '0');
}

/** The seed of a `config_<seed>.yaml` file name as OpenRetina reads it (`int(name[:-5].split("_")[1])`), or undefined. */
export function seedOfConfigFile(name: string): number | undefined {
  if (!name.endsWith('yaml')) return undefined;
  const part = name.slice(0, -'.yaml'.length).split('_')[1];
  return part !== undefined && /^\d+$/.test(part) ? Number(part) : undefined;
}
