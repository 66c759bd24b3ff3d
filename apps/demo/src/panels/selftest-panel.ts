// Self-test: input gradients on the MEI backend against finite differences, and the model's gradient against cpu.
import { onBackend } from '../backend.js';
import { $, describeError } from '../dom.js';
import { compareModelGradientWithCpu, runGradientChecks, type GradientCheck } from '../selftest.js';
import type { DemoState } from '../state.js';

export async function runSelfTest(state: DemoState): Promise<void> {
  const tbody = $('selftest').querySelector('tbody')!;
  tbody.replaceChildren();
  $('selftest-status').textContent = `running on ${state.backends.mei}…`;
  const results: GradientCheck[] = [];
  try {
    await onBackend(state.backends.mei, async () => {
      results.push(...(await runGradientChecks()));
      if (state.backends.mei !== 'cpu' && state.loaded) results.push(await compareModelGradientWithCpu(state.loaded.model, state.session));
    });
  } catch (e) {
    results.push({
      op: `self-test crashed: ${describeError(e).text}`,
      backend: state.backends.mei,
      relError: Number.NaN,
      pass: false,
      ms: 0,
    });
  }
  for (const r of results) {
    const tr = document.createElement('tr');
    tr.innerHTML = `<td></td><td>${r.backend}</td><td>${r.relError.toExponential(2)}</td><td>${r.ms.toFixed(0)}</td><td class="${r.pass ? 'pass' : 'fail'}">${r.pass ? 'pass' : 'FAIL'}</td>`;
    tr.firstElementChild!.textContent = r.op;
    tbody.appendChild(tr);
  }
  state.gradientsOk = results.every((r) => r.pass);
  const table = $('selftest');
  table.dataset.status = state.gradientsOk ? 'pass' : 'fail';
  table.dataset.result = JSON.stringify(results);
  $('selftest-status').textContent = state.gradientsOk
    ? `all ${results.length} checks pass on ${state.backends.mei} (tolerance 1e-3): MEIs use this backend`
    : `a check failed on ${state.backends.mei}: MEIs are disabled`;
}
