// The MEI options `mei` and `visualize` share: the same names, values, defaults and words in both.
import { MEI_PRESETS } from '@openretina/insilico';
import type { OptionSpec } from './option-table.js';

export const meiOptions = {
  preset: {
    type: 'string',
    placeholder: 'NAME',
    choices: Object.keys(MEI_PRESETS),
    default: 'default',
    description: `the MEI settings: ${Object.values(MEI_PRESETS)
      .map((p) => `${p.name} = ${p.description}`)
      .join('; ')}`,
  },
  steps: {
    type: 'string',
    placeholder: 'CAP',
    description: "the step cap (the run stops earlier when the objective settles, except with --preset openretina); default the preset's",
  },
  lr: { type: 'string', placeholder: 'LR', description: "the SGD learning rate (a finite number); default the preset's" },
  frames: { type: 'string', placeholder: 'N', description: "frames of the random start; default the preset's" },
  seed: { type: 'string', placeholder: 'N', description: 'seed of the random start (integer ≥ 0; default 0; not with --init)' },
  init: {
    type: 'string',
    placeholder: 'FILE',
    description: 'start from this stimulus .npy, (1, C, T, H, W) as OpenRetina, used as given (not with --seed)',
  },
  animation: {
    type: 'string',
    placeholder: 'A',
    choices: ['gif', 'mp4', 'none'],
    default: 'gif',
    description: 'the animation next to each MEI (mp4 needs ffmpeg on PATH, else a GIF is written)',
  },
} as const satisfies Record<string, OptionSpec>;
