/** OpenRetina's HuggingFace dataset repository holding the published checkpoints. */
export const HF_REPO = 'open-retina/open-retina';
/** Folder of the checkpoints in that repository. */
export const MODEL_CHECKPOINTS_FOLDER = 'model_checkpoints';
/** Base URL as OpenRetina writes it (`…/tree/main/model_checkpoints`). */
export const MODEL_CHECKPOINTS_BASE_URL = `https://huggingface.co/datasets/${HF_REPO}/tree/main/${MODEL_CHECKPOINTS_FOLDER}`;

/** The published models (OpenRetina's `_MODEL_NAME_TO_REMOTE_LOCATION`): name → path under `model_checkpoints/`. */
export const PUBLISHED_MODELS = {
  hoefling_2024_low_res: '2026-03-09/hoefling_2024_cnn_low_res.ckpt',
  hoefling_2024_high_res: '2026-03-09/hoefling_2024_cnn_high_res.ckpt',
  karamanlis_2024_mouse: '2026-03-09/karamanlis_2024_mouse.ckpt',
  karamanlis_2024_marmoset: '2026-03-09/karamanlis_2024_marmoset.ckpt',
  maheswaranathan_2023: '2026-03-09/maheswaranathan_2023.ckpt',
  sridhar_2025: '2026-03-09/sridhar_2025.ckpt',
  goldin_2022_axolotl: '2026-03-09/goldin_2022_axolotl.ckpt',
  goldin_2022_mouse: '2026-03-09/goldin_2022_mouse.ckpt',
  hoefling_2024_base_low_res: '27-11-2025/hoefling_2024_base_low_res.ckpt',
} as const;

export type PublishedModelName = keyof typeof PUBLISHED_MODELS;

/** True for one of the nine published model names. */
export function isPublishedModel(name: string): name is PublishedModelName {
  return Object.hasOwn(PUBLISHED_MODELS, name);
}

/** Path of a published model inside the repository (`model_checkpoints/<date>/<file>.ckpt`). */
export function publishedModelRepoPath(name: PublishedModelName): string {
  return `${MODEL_CHECKPOINTS_FOLDER}/${PUBLISHED_MODELS[name]}`;
}

/** OpenRetina's URL of a published model (`https://huggingface.co/datasets/open-retina/open-retina/tree/main/…`). */
export function publishedModelUrl(name: PublishedModelName, endpoint = 'https://huggingface.co'): string {
  return `${endpoint.replace(/\/$/, '')}/datasets/${HF_REPO}/tree/main/${publishedModelRepoPath(name)}`;
}
