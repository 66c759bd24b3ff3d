// Small DOM helpers shared by the panels.
import { DemoLoadError } from './model-loader.js';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing`);
  return e as T;
};

/** Replaces an element's content with an SVG figure (a string from @openretina/plot) and returns the <svg>. */
export function showSvg(container: HTMLElement, svg: string): SVGSVGElement {
  container.innerHTML = svg;
  return container.querySelector('svg')!;
}

export function message(text: string, kind: 'note' | 'error', errorKind?: string): void {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = text;
  if (errorKind) li.dataset.kind = errorKind;
  $('messages').appendChild(li);
}

export function clearErrors(): void {
  for (const li of Array.from($('messages').querySelectorAll('li.error'))) li.remove();
}

export function describeError(e: unknown): { text: string; kind: string } {
  if (e instanceof DemoLoadError) return { text: e.message, kind: e.kind };
  return { text: e instanceof Error ? e.message : String(e), kind: 'invalid' };
}

/** Runs `fn` with the page marked busy; errors become a message (prefixed with `what`). */
export async function busy<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  document.body.dataset.busy = 'true';
  try {
    return await fn();
  } catch (e) {
    const { text, kind } = describeError(e);
    message(`${what}: ${text}`, 'error', kind);
    return undefined;
  } finally {
    document.body.dataset.busy = 'false';
  }
}

/** The neuron indices typed in #neurons that exist in the session (at most `max`). */
export function selectedNeurons(count: number, max: number): number[] {
  const input = document.getElementById('neurons') as HTMLInputElement | null;
  const picked = ((input?.value ?? '').match(/\d+/g) ?? []).map(Number).filter((i) => i < count);
  return [...new Set(picked)].slice(0, max);
}
