import { StateDictError, formatShape, type StateDict } from '@openretina/contracts';
import type { Module } from '@openretina/layers';

/**
 * nnfabrik's `find_prefix`: the longest dotted prefix shared by at least `pAgree` of the keys (a prefix is never a
 * whole key). Returns the prefix ('' when none) and its number of components.
 */
export function findPrefix(keys: readonly string[], pAgree = 0.66, separator = '.'): [string, number] {
  const split = keys.map((k) => k.split(separator));
  let pLen = 0;
  let common = '';
  let prefs = new Map<string, number>([['', split.length]]);
  for (;;) {
    let best: [string, number] | undefined;
    for (const e of prefs) if (!best || e[1] > best[1]) best = e; // first of the largest, as Python's stable sort
    if (!best || best[1] < pAgree * split.length) break;
    common = best[0];
    pLen += 1;
    prefs = new Map();
    for (const key of split) {
      if (pLen === key.length) continue;
      const p = key.slice(0, pLen).join('.');
      prefs.set(p, (prefs.get(p) ?? 0) + 1);
    }
  }
  return [common, pLen - 1];
}

/** Options of {@link loadStateDictFlexible} (nnfabrik's `load_state_dict` flags). */
export interface FlexibleLoadOptions {
  ignoreMissing?: boolean;
  ignoreUnused?: boolean;
  matchNames?: boolean;
  ignoreDimMismatch?: boolean;
  prefixAgreement?: number;
  /** Receives what nnfabrik prints (ignored keys). */
  log?: (message: string) => void;
}

/** What {@link loadStateDictFlexible} did. */
export interface FlexibleLoadResult {
  loadedKeys: string[];
  missingKeys: string[];
  unusedKeys: string[];
  mismatchedKeys: string[];
}

/**
 * nnfabrik's flexible `load_state_dict(model, state_dict, ignore_missing, ignore_unused, match_names,
 * ignore_dim_mismatch)`: optionally swaps the common key prefix of the file for the model's ({@link findPrefix}),
 * then refuses unused keys (unless `ignoreUnused`), missing keys (unless `ignoreMissing`) and shape mismatches
 * (unless `ignoreDimMismatch`) with a `StateDictError` naming them, and loads the rest. Nothing is changed when it throws.
 */
export function loadStateDictFlexible(model: Module, stateDict: StateDict, options: FlexibleLoadOptions = {}): FlexibleLoadResult {
  const modelDict = model.stateDict();
  let sd = stateDict;
  if (options.matchNames) {
    const agree = options.prefixAgreement ?? 0.98;
    const [sPref, sIdx] = findPrefix([...sd.keys()], agree);
    const [mPref] = findPrefix([...modelDict.keys()], agree);
    const sParts = sPref.split('.');
    const swapped: StateDict = new Map();
    for (const [k, v] of sd) {
      const parts = k.split('.');
      const head = parts.slice(0, sIdx);
      const stripped = head.length === sParts.length && head.every((p, i) => p === sParts[i]) ? parts.slice(sIdx).join('.') : k;
      swapped.set(mPref ? `${mPref}.${stripped}` : stripped, v);
    }
    sd = swapped;
  }
  const unusedKeys = [...sd.keys()].filter((k) => !modelDict.has(k));
  if (unusedKeys.length) {
    if (!options.ignoreUnused) {
      throw new StateDictError(`Error in loading state_dict: unused keys (not in the model): ${unusedKeys.join(', ')}`, {
        details: { unusedKeys },
      });
    }
    options.log?.(`Ignored unnecessary keys in pretrained dict: ${unusedKeys.join(', ')}`);
  }
  const missingKeys = [...modelDict.keys()].filter((k) => !sd.has(k));
  if (missingKeys.length) {
    if (!options.ignoreMissing) {
      throw new StateDictError(`Error in loading state_dict: missing keys: ${missingKeys.join(', ')}`, { details: { missingKeys } });
    }
    options.log?.(`Ignored missing keys: ${missingKeys.join(', ')}`);
  }
  const updated: StateDict = new Map();
  const mismatchedKeys: string[] = [];
  for (const [k, v] of sd) {
    const target = modelDict.get(k);
    if (!target) continue;
    const same = v.shape.length === target.shape.length && v.shape.every((d, i) => d === target.shape[i]);
    if (!same) {
      if (!options.ignoreDimMismatch) {
        throw new StateDictError(
          `Error in loading state_dict: shape mismatch for key ${k}: the model has ${formatShape(target.shape)}, the file ${formatShape(v.shape)}.`,
          {
            details: { key: k, expected: [...target.shape], actual: [...v.shape] },
          },
        );
      }
      mismatchedKeys.push(k);
      options.log?.(`Ignored shape-mismatched parameter: ${k}`);
      continue;
    }
    updated.set(k, v);
  }
  model.loadStateDict(updated, { strict: !options.ignoreMissing });
  return { loadedKeys: [...updated.keys()], missingKeys, unusedKeys, mismatchedKeys };
}
