/** Höfling et al. 2024 constants (OpenRetina `hoefling_2024/constants.py` and its configs). */
export const HOEFLING_2024 = {
  numClips: 108,
  clipLength: 150,
  frameRate: 30,
  /** Seconds between the first and last frame of a clip trigger (`4.9666667`, i.e. 149 / 30). */
  movieTriggerDuration: 4.9666667,
  /** Validation clips of `configs/dataloader/hoefling_2024.yaml`. */
  validationClipIndices: [0, 4, 10, 11, 18, 30, 45, 62, 67, 77, 79, 80, 81, 83, 95] as readonly number[],
  lowResStimuli:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/stimuli/rgc_natstim_18x16_joint_normalized_2024-01-11.zip',
  highResStimuli:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/stimuli/rgc_natstim_72x64_joint_normalized_2024-10-11.zip',
  responses:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/responses/rgc_natstim_2024-08-14.zip',
  responsesSubset:
    'https://huggingface.co/datasets/open-retina/open-retina/blob/main/euler_lab/hoefling_2024/responses/rgc_natsim_subset_only_naturalspikes_2024-08-14.h5',
} as const;

/** The stimuli of the Höfling recordings: the natural movie, the chirp and the moving bar. */
export type HoeflingStimulus = 'natural' | 'chirp' | 'mb';

/** How one stimulus's triggers become 30 Hz frames (OpenRetina's `upsample_traces`). */
export interface HoeflingTriggerUpsampling {
  /** OpenRetina's stimulus id (`STIMULI_IDS`). */
  stimId: number;
  /** Seconds from a used trigger to the last frame it stands for (the measured duration). */
  duration: number;
  /** Frames per used trigger: `round(nominal duration · 30)`. */
  framesPerTrigger: number;
  /** Every `triggerStep`-th trigger starts a presentation (the chirp has two triggers per presentation). */
  triggerStep: number;
}

/**
 * Trigger upsampling per stimulus: natural movie 150 frames over 4.9666667 s per trigger; chirp 990 frames
 * (33 s nominal) over 32.98999999 s from every second trigger; moving bar 123 frames (4.1 s nominal) over 4.054001 s
 * per trigger (one trigger per bar direction).
 */
export const HOEFLING_2024_UPSAMPLING: Readonly<Record<HoeflingStimulus, HoeflingTriggerUpsampling>> = {
  natural: { stimId: 5, duration: 4.9666667, framesPerTrigger: 150, triggerStep: 1 },
  chirp: { stimId: 1, duration: 32.98999999, framesPerTrigger: 990, triggerStep: 2 },
  mb: { stimId: 2, duration: 4.054001, framesPerTrigger: 123, triggerStep: 1 },
};
