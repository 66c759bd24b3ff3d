// The index.html of `openretina visualize`: one page linking every figure, MEIs grouped by layer and session with
// their objective and a convergence flag.
import { escapeXml as esc } from '@openretina/plot';

export interface GalleryMei {
  /** Path of the MEI's files without extension, relative to the gallery folder. */
  base: string;
  label: string;
  objectiveStart: number;
  objectiveEnd: number;
  iterations: number;
  converged: boolean;
  warnings: readonly string[];
  animation: string;
}

export interface GalleryInput {
  title: string;
  notes: readonly string[];
  /** Figures of the model (weights, readouts, tuning): [caption, svg path, png path]. */
  figures: { caption: string; svg: string; png: string }[];
  animations: { caption: string; path: string }[];
  /** Groups of MEIs, e.g. "layer0" or "session_1 output neurons". */
  groups: { title: string; meis: readonly GalleryMei[] }[];
}

const video = (path: string, alt: string) =>
  path.endsWith('.mp4')
    ? `<video src="${esc(path)}" controls loop muted playsinline></video>`
    : `<img src="${esc(path)}" alt="${esc(alt)}" loading="lazy">`;

function meiCard(m: GalleryMei): string {
  const flag = m.converged ? '<span class="ok">converged</span>' : '<span class="bad">not converged</span>';
  const warn = m.warnings.length ? `<p class="warn">${m.warnings.map(esc).join('<br>')}</p>` : '';
  return `<figure class="mei${m.converged ? '' : ' unconverged'}${m.warnings.length ? ' warned' : ''}" data-converged="${m.converged}">
<a href="${esc(m.base)}.svg"><img src="${esc(m.base)}.png" alt="MEI ${esc(m.label)}" loading="lazy"></a>
<figcaption><strong>${esc(m.label)}</strong> · objective ${m.objectiveStart.toFixed(3)} → ${m.objectiveEnd.toFixed(3)} in ${m.iterations} steps · ${flag}
· <a href="${esc(m.animation)}">animation</a> · <a href="${esc(m.base)}_objective.svg">objective curve</a> · <a href="${esc(m.base)}.npy">.npy</a> · <a href="${esc(m.base)}.json">.json</a></figcaption>${warn}</figure>`;
}

/** The gallery page (relative links only: the folder can be moved or served as it is). */
export function renderGallery(input: GalleryInput): string {
  const all = input.groups.flatMap((g) => g.meis);
  const unconverged = all.filter((m) => !m.converged).length;
  const warned = all.filter((m) => m.warnings.length > 0).length;
  const toc = [
    input.figures.length ? '<a href="#model">Model weights and tuning</a>' : '',
    input.animations.length ? '<a href="#animations">ROI animations</a>' : '',
    ...input.groups.map((g, i) => `<a href="#g${i}">${esc(g.title)}</a>`),
  ]
    .filter(Boolean)
    .join(' · ');
  const figures = input.figures
    .map(
      (f) =>
        `<figure class="wide"><a href="${esc(f.svg)}"><img src="${esc(f.png)}" alt="${esc(f.caption)}" loading="lazy"></a><figcaption>${esc(f.caption)}</figcaption></figure>`,
    )
    .join('\n');
  const animations = input.animations
    .map((a) => `<figure>${video(a.path, a.caption)}<figcaption>${esc(a.caption)}</figcaption></figure>`)
    .join('\n');
  const groups = input.groups
    .map((g, i) => `<h2 id="g${i}">${esc(g.title)}</h2>\n<div class="grid">${g.meis.map(meiCard).join('\n')}</div>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1240px;padding:0 1em;color:#222}
img,video{max-width:100%;height:auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:14px}
figure{margin:0 0 1em}figure.wide img{border:1px solid #ddd}
figcaption{font-size:.88em;color:#333}.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}
.warn{font-size:.85em;color:#8a4b00;background:#fff6e5;padding:.3em .5em;margin:.2em 0}
.summary{background:#f4f6f8;padding:.6em 1em}
</style></head><body>
<h1>${esc(input.title)}</h1>
<div class="summary"><ul>${input.notes.map((n) => `<li>${esc(n)}</li>`).join('')}
<li id="convergence-summary">${all.length} MEIs: ${all.length - unconverged} converged, ${unconverged} stopped at the step cap; ${warned} with a warning.</li></ul>
<p>${toc}</p></div>
${input.figures.length ? `<h2 id="model">Model weights and tuning</h2>\n${figures}` : ''}
${input.animations.length ? `<h2 id="animations">ROI animations</h2>\n<div class="grid">${animations}</div>` : ''}
${groups}
</body></html>
`;
}
