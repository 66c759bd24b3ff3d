// Readout masks of the session: every neuron's position over the core's output grid and each mask.
import { readoutMasks, readoutMasksSvg } from '@openretina/insilico';
import { $, showSvg } from '../dom.js';
import type { DemoState } from '../state.js';

export async function loadReadout(state: DemoState): Promise<void> {
  state.masks = state.loaded ? await readoutMasks(state.loaded.model, state.session) : undefined;
}

export function renderReadout(state: DemoState): void {
  const box = $('readout');
  if (!state.masks) {
    box.textContent = 'This readout type has no spatial mask to show.';
    box.dataset.neurons = '0';
    return;
  }
  showSvg(box, readoutMasksSvg(state.masks, { title: `Readout masks: ${state.session}` }));
  box.dataset.neurons = String(state.masks.masks.length);
}
