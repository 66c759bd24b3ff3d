/** A crop `(top, bottom, left, right)`, or one value for all four sides. */
export type SridharCrop = number | readonly [number, number, number, number];

/** A crop as its four sides (one number: the same on every side). */
export const crop4 = (c: SridharCrop | undefined, dflt: number): [number, number, number, number] =>
  c === undefined ? [dflt, dflt, dflt, dflt] : typeof c === 'number' ? [c, c, c, c] : [c[0], c[1], c[2], c[3]];
