import type { NdTree } from '../../ndarray.js';
import { toNumberArray } from '../../ndarray.js';
import { type Field, fieldArray, fieldNeurons, maskField } from './fields.js';

/** Quality checks (`configs/quality_checks/hoefling_2024.yaml`). */
export interface HoeflingQualityChecks {
  filterCellTypes: boolean;
  cellTypesList: readonly number[];
  chirpQi: number;
  dQi: number;
  qiLogic: 'and' | 'or';
  filterCounts: boolean;
  countThreshold: number;
  classifierConfidence: number;
  /** Receives one line per filtering step (neurons and fields kept), as OpenRetina's `verbose` prints them. */
  report?: (message: string) => void;
}

/** The quality checks of OpenRetina's Höfling 2024 config. */
export const HOEFLING_2024_QUALITY_CHECKS: HoeflingQualityChecks = {
  filterCellTypes: true,
  cellTypesList: Array.from({ length: 32 }, (_, i) => i + 1),
  chirpQi: 0.35,
  dQi: 0.6,
  qiLogic: 'or',
  filterCounts: false,
  countThreshold: 10,
  classifierConfidence: 0.25,
};

/**
 * Höfling 2024 quality filter (OpenRetina's `filter_responses`): keep the given cell types, keep neurons with
 * `chirp_qi ≥ chirpQi` OR (or AND) `d_qi ≥ dQi`, keep neurons whose maximal classifier confidence reaches the
 * threshold, optionally drop fields with too few neurons; fields left empty are dropped.
 */
export function filterHoeflingResponses(
  all: Readonly<Record<string, NdTree>>,
  checks: Partial<HoeflingQualityChecks> = {},
): Record<string, NdTree> {
  const c = { ...HOEFLING_2024_QUALITY_CHECKS, ...checks };
  const out: Record<string, NdTree> = {};
  // neurons and fields left after each step: original, cell types, quality indices, classifier confidence, counts
  const neurons = [0, 0, 0, 0, 0];
  const fields = [0, 0, 0, 0, 0];
  const tally = (stage: number, n: number) => {
    neurons[stage]! += n;
    if (n > 0) fields[stage]! += 1;
  };
  for (const [name, f0] of Object.entries(all)) {
    let f: Field = f0 as Field;
    const step = (mask: boolean[]) => {
      f = maskField(f, mask);
    };
    const n = () => fieldNeurons(f);
    tally(0, n());
    if (c.filterCellTypes) {
      const types = toNumberArray(fieldArray(f, 'group_assignment', name).data);
      step(types.map((t) => c.cellTypesList.includes(t)));
    }
    tally(1, n());
    if (n() > 0) {
      const cq = toNumberArray(fieldArray(f, 'chirp_qi', name).data);
      const dq = toNumberArray(fieldArray(f, 'd_qi', name).data);
      step(cq.map((v, i) => (c.qiLogic === 'and' ? v >= c.chirpQi && dq[i]! >= c.dQi : v >= c.chirpQi || dq[i]! >= c.dQi)));
    }
    tally(2, n());
    if (n() > 0 && c.classifierConfidence > 0) {
      const conf = fieldArray(f, 'group_confidences', name);
      const vals = toNumberArray(conf.data);
      const cols = conf.shape[1] ?? 1;
      const mask: boolean[] = [];
      for (let i = 0; i < n(); i++) mask.push(Math.max(...vals.slice(i * cols, (i + 1) * cols)) >= c.classifierConfidence);
      step(mask);
    }
    tally(3, n());
    if (n() === 0) continue;
    if (c.filterCounts && n() <= c.countThreshold) continue;
    tally(4, n());
    out[name] = f as NdTree;
  }
  if (c.report) {
    const steps = [
      'original',
      'of the target cell types',
      'passing the quality indices',
      'above the classifier confidence',
      'in fields with enough neurons',
    ];
    steps.forEach((what, i) =>
      c.report!(`quality checks: ${neurons[i]} neurons in ${fields[i]} fields ${i === 0 ? '(before filtering)' : what}`),
    );
  }
  return out;
}
