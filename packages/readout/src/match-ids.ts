import { ConfigError } from '@openretina/contracts';

/**
 * numpy's `np.unique(match_ids, return_inverse=True)[1]`: for each neuron the rank of its id among the sorted
 * distinct ids, so neurons with equal ids share one entry and entries are ordered by id. Also the entry count.
 */
export function sharingIndex(
  matchIds: ArrayLike<number> | null | undefined,
  neurons: number,
  what: string,
): { index: Int32Array; entries: number } {
  if (matchIds === null || matchIds === undefined) throw new ConfigError(`${what}: match_ids must be set (one id per neuron).`);
  if (matchIds.length !== neurons) {
    throw new ConfigError(`${what}: match_ids must have one id per neuron (${neurons}), got ${matchIds.length}.`);
  }
  const ids = Array.from(matchIds);
  if (ids.some((v) => !Number.isFinite(v))) throw new ConfigError(`${what}: match_ids must be finite numbers, got ${JSON.stringify(ids)}.`);
  const distinct = [...new Set(ids)].sort((a, b) => a - b);
  const rank = new Map(distinct.map((v, i) => [v, i]));
  return { index: Int32Array.from(ids, (v) => rank.get(v)!), entries: distinct.length };
}
