import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs bench script, without declarations
import { TARGETS, exactRatio, ratioText, targetRows, targetTable } from '../bench/targets.mjs';

interface Row {
  key: string;
  value: number | null;
  met: boolean | null;
}

describe('bench targets (issue 18)', () => {
  it('judges a ratio on its exact value, not on the value rounded to two places', () => {
    const rows: Row[] = targetRows({ train_step_b32: 0.353, inference_b32_onnx: 0.2995, mei_iteration: 0.3 });
    const byKey = new Map(rows.map((r) => [r.key, r]));
    expect(byKey.get('train_step_b32')?.met).toBe(false);
    expect(byKey.get('inference_b32_onnx')?.met).toBe(true);
    expect(byKey.get('mei_iteration')?.met).toBe(true);
    expect(byKey.get('epoch_bundled')).toMatchObject({ value: null, met: null });
    const table: string = targetTable(rows);
    expect(table).toContain('| 0.353 | ≤ 0.35 | **missed** |');
    expect(table).toContain('| — | ≤ 0.5 | not run |');
  });

  it('judges the browser speed-ups from below', () => {
    const rows: Row[] = targetRows({ browser_predict: 2.99, browser_mei: 3 });
    const byKey = new Map(rows.map((r) => [r.key, r]));
    expect(byKey.get('browser_predict')?.met).toBe(false);
    expect(byKey.get('browser_mei')?.met).toBe(true);
    expect(targetTable(rows)).toContain('| 2.99× | ≥ 3× | **missed** |');
  });

  it('gives no ratio for missing or non-positive figures', () => {
    expect(exactRatio(10, 40)).toBe(0.25);
    expect(exactRatio(undefined, 40)).toBeNull();
    expect(exactRatio(10, 0)).toBeNull();
    expect(TARGETS.map((t: { key: string }) => t.key)).toContain('run_bundled_wall');
  });

  it('prints a table cell to two places, and a dash where a figure is missing', () => {
    expect(ratioText(10, 30)).toBe('0.33');
    expect(ratioText(74.9, 13)).toBe('5.76');
    expect(ratioText(undefined, 13)).toBe('—');
    expect(ratioText(10, 0)).toBe('—');
  });
});
