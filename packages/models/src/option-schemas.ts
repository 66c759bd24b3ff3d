// Reusable zod pieces for OpenRetina's config values.
import { z } from 'zod';

/** OpenRetina's marker of a value set at run time (`channels: ???`, `in_shape: ???`, `n_neurons_dict: ???`). */
export const MISSING = '???';

/** A value that the config may leave as `???` because the model builder fills it in. */
export function filledLater<S extends z.ZodType>(schema: S) {
  return z.union([z.literal(MISSING), schema]);
}

export const positiveInt = z.number().int().positive();
export const nonNegativeInt = z.number().int().nonnegative();
export const finite = z.number();
/** `[C, T, H, W]`. */
export const shape4 = z.tuple([positiveInt, positiveInt, positiveInt, positiveInt]);
export const neuronCounts = z.record(z.string(), nonNegativeInt);
/** Padding of a conv layer: a bool (`true` = same), a number, `"same"`, or `[t, h, w]`. */
export const padding = z.union([z.boolean(), nonNegativeInt, z.literal('same'), z.array(nonNegativeInt)]);
/** A value OpenRetina accepts that this port does not implement: only its default (null) is accepted. */
export function nullOnly(what: string) {
  return z.null({ error: `${what} is not supported by @openretina (it must be null)` }).optional();
}
