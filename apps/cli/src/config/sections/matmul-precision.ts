// `matmul_precision`: torch.set_float32_matmul_precision. TF.js computes float32 matmuls in float32 ("highest");
// "high" and "medium" only allow PyTorch to go faster with less precise arithmetic, which nothing here needs.
import { z } from 'zod';
import { classTarget } from './common.js';

export const matmulPrecisionSchema = z
  .object({
    _target_: classTarget('torch.set_float32_matmul_precision', 'set_float32_matmul_precision'),
    precision: z.enum(['highest', 'high', 'medium']),
  })
  .strict();
