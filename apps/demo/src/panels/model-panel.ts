// Model panel: what is loaded (name, input, sessions) and the ways to load another (files, a folder, the bundled one).
import { $ } from '../dom.js';
import type { NamedBytes } from '../model-loader.js';
import type { DemoState } from '../state.js';

const SOURCES: Record<string, string> = {
  bundled: '',
  ours: ' · loaded from our checkpoint',
  'openretina-ckpt': ' · loaded from an OpenRetina checkpoint',
  url: ' · loaded from a URL',
};

export function renderModelInfo(state: DemoState): void {
  const loaded = state.loaded;
  if (!loaded) return;
  const m = loaded.model;
  const s = m.stimulus;
  $('model-name').textContent = loaded.name;
  $('model-name').dataset.source = loaded.source;
  const total = Object.values(m.neuronsPerSession).reduce((a, b) => a + b, 0);
  $('model-info').textContent =
    `input [${s.channels} ch, ${s.height}×${s.width} px] · ${m.sessions.length} session(s), ${total} neurons · ` +
    `${m.numParameters()} parameters · each output frame sees ${m.framesCut + 1} input frames${SOURCES[loaded.source] ?? ''}`;
  const sel = $<HTMLSelectElement>('session');
  sel.replaceChildren(...m.sessions.map((k) => new Option(`${k} (${m.neuronsPerSession[k]} neurons)`, k)));
  sel.value = state.session;
}

/** The chosen files' names (with their folder path when a folder was picked) and contents. */
export async function readChosenFiles(input: HTMLInputElement): Promise<NamedBytes[]> {
  const files = Array.from(input.files ?? []);
  return Promise.all(files.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}
