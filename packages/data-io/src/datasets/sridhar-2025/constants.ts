/** Sridhar et al. 2025 constants (OpenRetina `sridhar_2025/constants.py` and the `sridhar_nm_2025.yaml` configs). */
export const SRIDHAR_2025 = {
  testDataFrames: 5100,
  naturalMovieDataset: 'gollisch_lab/sridhar_2025/marmoset/natural_movie',
  whiteNoiseDataset: 'gollisch_lab/sridhar_2025/marmoset/whitenoise',
  naturalMovieResponseFiles: {
    '01': 'responses/cell_responses_01_fixation_movie.pkl',
    '02': 'responses/cell_responses_02_fixation_movie.pkl',
    '03': 'responses/cell_responses_03_fixation_movie.pkl',
    '04': 'responses/cell_responses_04_fixation_movie.pkl',
  } as Readonly<Record<string, string>>,
  naturalMovieFixationFiles: {
    '01': 'fixations/complete_fixations_seed_2022and2023_s4_fixed.txt',
    '02': 'fixations/complete_fixations_seed2022_s4.txt',
    '03': 'fixations/complete_fixations_seed_2022and2023_s4_fixed.txt',
    '04': 'fixations/complete_fixations_seed_2022and2023_s4_fixed.txt',
  } as Readonly<Record<string, string>>,
  /** Frame rendering of the 4× downsampled natural movie (`stimuli_padded_4`). */
  render: { fullImgW: 350, fullImgH: 300, imgW: 200, imgH: 150, padding: 50, bigCrops: [35, 35, 55, 55] as const, subsample: 1 },
} as const;

/**
 * Cells excluded per retina in OpenRetina's Sridhar 2025 dataloader configs (unreliable responses to the white-noise and
 * natural-movie test sets). The natural-movie list keeps cells 12 and 168 of retina "01" (the published model was
 * trained with them); the white-noise list excludes them.
 */
export const SRIDHAR_2025_EXCLUDED_CELLS: {
  readonly naturalMovie: Readonly<Record<string, readonly number[]>>;
  readonly whiteNoise: Readonly<Record<string, readonly number[]>>;
} = (() => {
  const r01 = [
    1, 5, 6, 7, 9, 10, 14, 16, 19, 20, 22, 25, 26, 29, 30, 31, 32, 33, 34, 35, 43, 46, 53, 54, 57, 62, 63, 64, 70, 71, 72, 77, 78, 79, 81,
    82, 83, 86, 89, 90, 91, 94, 96, 97, 101, 103, 106, 112, 114, 116, 121, 122, 126, 127, 128, 130, 133, 136, 140, 143, 144, 145, 146, 148,
    149, 155, 159, 162, 171, 176, 177, 178, 182, 185, 189, 191, 193, 197, 200, 209, 221, 222, 227, 230, 231, 234, 235, 236, 242, 243, 245,
    247, 250, 254, 257, 258, 261, 262, 269, 271, 273, 274, 277, 281, 292, 296, 301, 303, 304, 307, 310, 311, 312, 313, 317, 318, 320, 325,
    330, 331, 332, 333, 340, 341, 342, 344, 350, 352, 353, 354, 357, 358, 362, 363, 365,
  ];
  const r02 = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 15, 16, 17, 18, 21, 24, 25, 26, 28, 29, 32, 42, 43, 44, 45, 46, 48, 50, 51, 53, 57, 58, 59, 60,
    61, 64, 66, 69, 70, 72, 74, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 89, 90, 91, 92, 95, 96, 98, 100, 101, 103, 107, 108, 111, 112, 113,
    115, 117, 118, 119, 120, 121, 123, 124, 125, 127, 128, 129, 130, 131, 134, 136, 138, 140, 141, 143, 144, 145, 146, 147, 149, 150, 151,
    152, 153, 154, 156, 159, 160, 162, 163, 164, 166, 170, 172, 173, 174, 175, 176, 179, 181,
  ];
  const r04 = [0, 1, 13, 15, 19, 21, 22, 24, 29, 33, 34, 40, 41, 46, 47, 49, 51, 55, 57, 59, 62, 65, 71, 84, 89, 90, 94, 99, 103, 108];
  const wn01 = [...r01, 12, 168].sort((a, b) => a - b);
  return { naturalMovie: { '01': r01, '02': r02, '03': [], '04': r04 }, whiteNoise: { '01': wn01, '02': r02, '04': r04 } };
})();

/** White-noise constants of OpenRetina's `sridhar_wn_2025` configs. */
export const SRIDHAR_2025_WHITE_NOISE = {
  responseFiles: {
    '01': 'responses/cell_responses_01_wn.pkl',
    '02': 'responses/cell_responses_02_wn.pkl',
    '04': 'responses/cell_responses_04_wn.pkl',
  } as Readonly<Record<string, string>>,
  trainImagePath: { '01': 'non_repeating_stimuli_1', '02': 'non_repeating_stimuli_1', '04': 'non_repeating_stimuli_2' } as Readonly<
    Record<string, string>
  >,
  testImagePath: { '01': 'repeating_stimuli_1', '02': 'repeating_stimuli_1', '04': 'repeating_stimuli_2' } as Readonly<
    Record<string, string>
  >,
  bigCrops: [35, 35, 55, 55] as const,
} as const;

/** HuggingFace folders of the Sridhar 2025 data (natural movie and white noise). */
export const SRIDHAR_2025_URLS = {
  naturalMovie: `https://huggingface.co/datasets/open-retina/open-retina/tree/main/${SRIDHAR_2025.naturalMovieDataset}`,
  whiteNoise: `https://huggingface.co/datasets/open-retina/open-retina/tree/main/${SRIDHAR_2025.whiteNoiseDataset}`,
} as const;
