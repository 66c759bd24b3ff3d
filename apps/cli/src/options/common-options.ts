// Options several commands share, declared once so that their names, values and words agree everywhere.
import type { OptionSpec } from './option-table.js';

export const BACKEND_CHOICES = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;

/** `--backend`: the TF.js backend. */
export const backendOption: OptionSpec = {
  type: 'string',
  placeholder: 'B',
  choices: BACKEND_CHOICES,
  description: 'the TF.js backend (auto: tfjs-node(-gpu) when installed, else wasm with corrected kernels)',
};

/** `--engine`: the compute engine. */
export const engineOption: OptionSpec = {
  type: 'string',
  placeholder: 'E',
  choices: ['auto', 'onnx', 'tfjs'],
  description: 'the compute engine (auto: ONNX Runtime when it covers the model, else TF.js)',
};

/** `--device`: where the ONNX engine runs. */
export const deviceOption: OptionSpec = {
  type: 'string',
  placeholder: 'D',
  choices: ['cpu', 'cuda', 'webgpu'],
  description: 'where the ONNX engine runs (cuda: NVIDIA GPU with CUDA 12/cuDNN 9 and the CUDA provider)',
};

/** `--progress`: how progress is drawn on stderr. */
export const progressOption: OptionSpec = {
  type: 'string',
  placeholder: 'P',
  choices: ['auto', 'bar', 'lines', 'none'],
  default: 'auto',
  description: 'progress on stderr: a bar redrawn in place, one line per step, or nothing (auto: a bar on a TTY, else lines)',
};

/** `--checkpoint`: the model to load. */
export const checkpointOption: OptionSpec = {
  type: 'string',
  placeholder: 'C',
  description: 'the model: an OpenRetina .ckpt/.pt, an @openretina checkpoint folder or a published model name',
};

/** `--session`: one session of a multi-session model. */
export const sessionOption: OptionSpec = {
  type: 'string',
  placeholder: 'S',
  description: 'one session of the model',
};

/** `--config`, `--config-path`, `--config-name`: an experiment config, as Hydra takes it. */
export const configOptions = {
  config: {
    type: 'string',
    placeholder: 'FILE|PRESET',
    description: 'the experiment config: a YAML file or a preset (`openretina presets`)',
  },
  'config-path': {
    type: 'string',
    placeholder: 'DIR',
    description: "Hydra's config folder (with --config-name; groups come from DIR alone)",
  },
  'config-name': { type: 'string', placeholder: 'NAME', description: 'the config in --config-path' },
} as const satisfies Record<string, OptionSpec>;
