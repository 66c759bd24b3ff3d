// Core filters: the spatial and temporal kernels of the chosen conv layer (OpenRetina's weight plots, one page).
import { coreWeights, layerWeightsSvg } from '@openretina/insilico';
import { $, showSvg } from '../dom.js';
import type { DemoState } from '../state.js';

export async function loadFilters(state: DemoState): Promise<void> {
  state.filters = state.loaded ? await coreWeights(state.loaded.model) : [];
  const layerSel = $<HTMLSelectElement>('layer');
  layerSel.replaceChildren(...state.filters.map((l, i) => new Option(l.name, String(i))));
}

export function renderFilters(state: DemoState): void {
  const box = $('filters');
  const index = Number($<HTMLSelectElement>('layer').value) || 0;
  const layer = state.filters[index];
  if (!layer) {
    box.textContent = 'No 3-D convolution layers found in this core.';
    box.dataset.channels = '0';
    return;
  }
  const greenUv = index === 0 && layer.spatial[0]?.length === 2;
  showSvg(box, layerWeightsSvg(layer, greenUv ? { inputNames: ['Green', 'UV'] } : {}));
  box.dataset.channels = String(layer.spatial.length);
}
