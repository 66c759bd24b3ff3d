import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';

/** The builder's keyword arguments (`model_config` of the nnfabrik YAML), snake_case as in the file. */
export type LegacyModelConfig = Readonly<Record<string, unknown>>;

// YAML integers can arrive as bigint and nnfabrik files write flags as 0/1: both are accepted, as Python does.
const number = z.union([z.number(), z.bigint().transform(Number)]);
const flag = z.union([z.boolean(), z.number().transform((v) => v !== 0)]);
const numberOrList = z.union([number, z.array(number)]);

/**
 * `SFB3d_core_SxF3d_readout`'s keyword arguments with Python's defaults. Strict: an unknown key is an error, except
 * `transfer` (nnfabrik bookkeeping that changes nothing here).
 */
const LEGACY_MODEL_CONFIG = z.strictObject({
  hidden_channels: numberOrList.default([8]),
  temporal_kernel_size: numberOrList.default([21]),
  spatial_kernel_size: numberOrList.default([11]),
  layers: number.default(1),
  gamma_hidden: number.default(0),
  gamma_input: number.default(0.1),
  gamma_temporal: number.default(0.1),
  gamma_in_sparse: number.default(0),
  final_nonlinearity: flag.default(true),
  core_bias: flag.default(false),
  momentum: number.default(0.1),
  input_padding: flag.default(false),
  hidden_padding: flag.default(true),
  batch_norm: flag.default(true),
  batch_norm_scale: flag.default(false),
  laplace_padding: number.nullable().default(null),
  batch_adaptation: flag.default(true),
  readout_scale: flag.default(false),
  readout_bias: flag.default(true),
  gaussian_masks: flag.default(false),
  gamma_readout: number.default(0.1),
  gamma_masks: number.default(0),
  gaussian_mean_scale: number.default(1),
  gaussian_var_scale: number.default(1),
  initialize_from_roi_masks: flag.default(false),
  readout_positive: flag.default(false),
  stack: numberOrList.nullable().default(null),
  readout_reg_avg: flag.default(false),
  use_avg_reg: flag.default(false),
  nonlinearity: z.string().default('ELU'),
  conv_type: z.string().default('custom_separable'),
  transfer: z.unknown().optional(),
});

/** The builder's options after defaults and checks. */
export type LegacyBuilderOptions = z.output<typeof LEGACY_MODEL_CONFIG>;

/** Validates a `model_config` and fills in the defaults; every problem is reported in one `ConfigError`. */
export function parseLegacyModelConfig(modelConfig: LegacyModelConfig): LegacyBuilderOptions {
  const parsed = LEGACY_MODEL_CONFIG.safeParse(modelConfig);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown option(s) ${issue.keys.join(', ')}. Accepted: ${Object.keys(LEGACY_MODEL_CONFIG.shape).join(', ')}`;
    }
    const key = issue.path.map(String).join('.');
    const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], modelConfig);
    return `model_config.${key} is invalid (${issue.message}), got ${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}`;
  });
  throw new ConfigError(`SFB3d_core_SxF3d_readout: ${problems.join('; ')}.`);
}
