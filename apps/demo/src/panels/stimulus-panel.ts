// Stimulus panel: the stimulus choice (generated ones, the bundled natural movie, the user's own movie), the movie
// player and its frame slider.
import { drawFrame } from '../frame-canvas.js';
import { $ } from '../dom.js';
import { movieFromNpy, movieFromVideo } from '../movie-input.js';
import { FRAME_RATE, STIMULUS_LABELS, makeStimulus, naturalMovieFor, type DemoStimulus, type StimulusKind } from '../stimuli.js';
import { currentModel, type DemoState } from '../state.js';

export function fillStimulusChoices(): void {
  $<HTMLSelectElement>('stimulus').replaceChildren(
    ...(Object.keys(STIMULUS_LABELS) as StimulusKind[]).map((k) => new Option(STIMULUS_LABELS[k], k)),
  );
  $<HTMLSelectElement>('grating-dir').replaceChildren(...[0, 45, 90, 135, 180, 225, 270, 315].map((d) => new Option(`${d}°`, String(d))));
}

/** The stimulus the controls ask for, at the model's frame size. */
export function chosenStimulus(state: DemoState): DemoStimulus {
  const kind = $<HTMLSelectElement>('stimulus').value as StimulusKind;
  $('grating-dir-label').style.display = kind === 'grating' ? '' : 'none';
  const spec = currentModel(state).model.stimulus;
  const naturalMovie = kind === 'natural' ? naturalMovieFor(state.naturalMovie, spec) : undefined;
  return makeStimulus(
    {
      kind,
      direction: Number($<HTMLSelectElement>('grating-dir').value),
      ...(naturalMovie ? { naturalMovie } : {}),
      ...(state.userMovie ? { userMovie: state.userMovie } : {}),
    },
    spec,
  );
}

/** Shows frame f of the current stimulus; `onTime` follows it (e.g. the response plot's cursor). */
export function showFrame(state: DemoState, f: number, onTime: (seconds: number) => void): void {
  const stim = state.stimulus;
  if (!stim) return;
  state.frame = f;
  drawFrame($<HTMLCanvasElement>('movie-canvas'), stim.movie, f, stim.displayScale ?? 1);
  $<HTMLInputElement>('frame-slider').value = String(f);
  const t = stim.movie.shape[0];
  let label = `frame ${f + 1}/${t} · ${(f / FRAME_RATE).toFixed(2)} s`;
  if (stim.sweep)
    label += ` · bar moving ${stim.sweep.directions[Math.min(stim.sweep.directions.length - 1, Math.floor(f / stim.sweep.frames))]}°`;
  $('frame-label').textContent = label;
  $('movie-canvas').dataset.frame = String(f);
  onTime(f / FRAME_RATE);
}

export function stopPlayback(state: DemoState): void {
  if (state.timer !== undefined) clearInterval(state.timer);
  state.timer = undefined;
  $('play').textContent = '▶ Play';
  $('play').dataset.playing = 'false';
}

export function togglePlayback(state: DemoState, onTime: (seconds: number) => void): void {
  if (state.timer !== undefined) {
    stopPlayback(state);
    return;
  }
  const stim = state.stimulus;
  if (!stim) return;
  $('play').textContent = '❚❚ Pause';
  $('play').dataset.playing = 'true';
  if (state.frame >= stim.movie.shape[0] - 1) state.frame = 0;
  state.timer = setInterval(() => {
    const next = state.frame + 1;
    if (next >= stim.movie.shape[0]) return stopPlayback(state);
    showFrame(state, next, onTime);
  }, 1000 / FRAME_RATE);
}

/** Reads the user's movie file (.npy, or a video the browser can decode) for the current model into the state. */
export async function openUserMovie(state: DemoState, file: File): Promise<void> {
  const spec = currentModel(state).model.stimulus;
  const movie = file.name.toLowerCase().endsWith('.npy')
    ? movieFromNpy(new Uint8Array(await file.arrayBuffer()), file.name, spec)
    : await movieFromVideo(file, file.name, spec, FRAME_RATE);
  state.userMovie = { movie, name: file.name };
  const box = $('movie-file');
  box.dataset.frames = String(movie.shape[0]);
  $('movie-file-info').textContent =
    `${file.name}: ${movie.shape[0]} frames of ${movie.shape[1]}×${movie.shape[2]} px, ${movie.shape[3]} channel(s)`;
  $<HTMLSelectElement>('stimulus').value = 'user';
}

/** Drops the user's movie (it was matched to the previous model's frames) and leaves its choice. */
export function forgetUserMovie(state: DemoState): void {
  state.userMovie = undefined;
  $('movie-file-info').textContent = '';
  if ($<HTMLSelectElement>('stimulus').value === 'user') $<HTMLSelectElement>('stimulus').value = 'natural';
}
