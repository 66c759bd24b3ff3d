// Functional cell types of the mouse retina as Baden et al. 2016 number them (the `group_assignment` of the Höfling
// data): 1–32 ganglion cell types, 33–46 displaced amacrine cell types.

/** The name of each functional type (OpenRetina's `RGC_GROUP_NAMES_DICT`). */
export const RGC_GROUP_NAMES: Readonly<Record<number, string>> = {
  1: 'OFF local, OS',
  2: 'OFF DS',
  3: 'OFF step',
  4: 'OFF slow',
  5: 'OFF alpha sust.',
  6: '(ON-)OFF Jam-B mix',
  7: 'OFF sust',
  8: 'OFF alpha trans',
  9: 'OFF mini alpha trans',
  10: 'ON-OFF local-edge W3',
  11: 'ON-OFF local',
  12: 'ON-OFF DS 1',
  13: 'ON-OFF DS 2',
  14: '(ON-)OFF local, OS',
  15: 'ON step',
  16: 'ON DS trans',
  17: 'ON local trans, OS',
  18: 'ON trans',
  19: 'ON trans, large',
  20: 'ON high freq',
  21: 'ON low freq',
  22: 'ON sust',
  23: 'ON mini alpha',
  24: 'ON alpha',
  25: 'ON DS sust 1',
  26: 'ON DS sust 2',
  27: 'ON slow',
  28: 'ON contrast suppr.',
  29: 'ON DS sust 3',
  30: 'ON local sust Os',
  31: 'OFF suppr. 1',
  32: 'OFF suppr. 2',
  33: 'OFF AC',
  34: 'ON high freq. sust. 1 AC',
  35: 'ON high freq. trans. AC',
  36: 'ON-OFF high freq. AC',
  37: 'ON high freq. sust. 2 AC',
  38: 'ON sust. 1 AC',
  39: 'ON sust. 2 AC',
  40: 'ON sust. 3 AC',
  41: 'ON sust. 4 AC',
  42: 'ON starburst AC',
  43: 'ON-OFF local AC',
  44: 'ON step AC',
  45: 'ON local 1 AC',
  46: 'ON local 2 AC',
};

/**
 * The last type number of each ganglion cell class of Baden et al. 2016 (OpenRetina's `BADEN_TYPE_BOUNDARIES`):
 * OFF 1–9, ON-OFF 10–14, fast ON 15–20, slow ON 21–28, uncertain RGCs 29–32.
 */
export const BADEN_TYPE_BOUNDARIES: readonly number[] = [9, 14, 20, 28, 32];

/** The class of each functional type (OpenRetina's `RGC_GROUP_GROUP_ID_TO_CLASS_NAME`; 33–46 are amacrine cells). */
export const RGC_GROUP_CLASS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Array.from({ length: 46 }, (_, k) => {
    const type = k + 1;
    const name =
      type <= 9 ? 'OFF' : type <= 14 ? 'ON-OFF' : type <= 20 ? 'Fast On' : type <= 28 ? 'SLOW ON' : type <= 32 ? 'Uncertain RGC' : 'AC';
    return [type, name];
  }),
);
