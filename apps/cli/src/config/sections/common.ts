import { z } from 'zod';

export const positiveInt = z.number().int().positive();
export const nonNegativeInt = z.number().int().nonnegative();
/** Hydra's instantiation keys beside a `_target_`. */
export const hydraKeys = { _convert_: z.enum(['none', 'partial', 'object', 'all']).optional(), _partial_: z.literal(false).optional() };
/** `_target_` of a class given by its path and short name. */
export function classTarget<const P extends string, const S extends string>(path: P, short: S) {
  return z.literal([path, short]);
}
/** A Lightning switch that changes nothing here: only its value that matches what we do is accepted. */
export const nullOnly = z.null().optional();
