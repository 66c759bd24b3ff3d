/**
 * The model the demo loads at start-up: a checkpoint folder in our format (model.json + model.safetensors) under
 * public/models/, fetched relative to the page. It is the Höfling 2024 low-res core-readout trained by our trainer on
 * the bundled dataset (`pnpm run main`, apps/cli/data/natural_2x18x16), copied here with the first 10 s of that
 * dataset's test movie by `node scripts/make-bundled-model.mjs`. To ship another model, put its folder under
 * public/models/ and change `folder` (and `label`, `naturalMovie`) here: nothing else refers to the bundled model.
 */
export const BUNDLED_MODEL: {
  /** Folder of the checkpoint, relative to the site root, ending in '/'. */
  readonly folder: string;
  /** Short name shown in the model picker. */
  readonly label: string;
  /**
   * Optional natural movie from the bundled dataset (a `.npy` array `[T, H, W, C]`, int8 or float, in the model's input
   * units, relative to the site root). Used as the "natural-like movie" for every model whose frames have its size;
   * otherwise (or without it) that stimulus is a synthetic 1/f scene viewed with fixational drift and saccades.
   */
  readonly naturalMovie?: string;
} = {
  folder: 'models/natural-core-readout/',
  label: 'Höfling 2024 low-res core-readout, trained on the bundled dataset',
  naturalMovie: 'models/natural-core-readout/natural-movie.npy',
};
