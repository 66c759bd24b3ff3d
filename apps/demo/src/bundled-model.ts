/**
 * The model the demo loads at start-up: a checkpoint folder in our format (model.json + model.safetensors) under
 * public/models/, fetched relative to the page. To ship another model (e.g. the one our trainer produces on the
 * bundled dataset), put its folder under public/models/ and change `folder` (and `label`) here: nothing else refers
 * to the bundled model.
 */
export const BUNDLED_MODEL: {
  /** Folder of the checkpoint, relative to the site root, ending in '/'. */
  readonly folder: string;
  /** Short name shown in the model picker. */
  readonly label: string;
  /**
   * Optional natural movie from the bundled dataset (a `.npy` float32 array `[T, H, W, C]` matching the model's input,
   * relative to the site root). Without it, the "natural-like" stimulus is a synthetic 1/f scene viewed with
   * fixational drift and saccades.
   */
  readonly naturalMovie?: string;
} = {
  folder: 'models/openretina-fixture-hoefling-lowres/',
  label: 'OpenRetina fixture model (Höfling 2024 low-res, placeholder)',
};
