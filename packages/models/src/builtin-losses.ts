// OpenRetina's loss classes that a `model.loss` / `model.evaluation_loss` section may name.
import { z } from 'zod';
import { ConfigError } from '@openretina/contracts';
import type { LossBuildContext } from './build-context.js';
import type { ComponentRegistry } from './component-registry.js';
import type { ModelLoss } from './core-readout.js';
import { finite } from './option-schemas.js';

/** per_neuron=true gives one value per neuron, which can be neither minimised nor logged as a scalar. */
const perNeuron = z
  .literal(false, {
    error:
      'per_neuron=true gives one value per neuron, which can be neither minimised nor logged as a scalar (in OpenRetina neither); use avg',
  })
  .optional();
const poissonArgs = { bias: finite.optional(), per_neuron: perNeuron, avg: z.boolean().optional() };

/** Cell-type losses take each neuron's 1-based cell type from the session kwarg `group_assignment`. */
function cellTypes(ctx: LossBuildContext): { groupAssignment: Record<string, number[]>; groupCounts: number[] } {
  const info = ctx.dataInfo;
  const groupAssignment: Record<string, number[]> = {};
  const missing: string[] = [];
  for (const s of Object.keys(info?.nNeuronsDict ?? {}).sort()) {
    const g = info?.sessionsKwargs?.[s]?.group_assignment;
    if (Array.isArray(g) || ArrayBuffer.isView(g)) groupAssignment[s] = Array.from(g as ArrayLike<unknown>, Number);
    else missing.push(s);
  }
  if (!info || missing.length) {
    throw new ConfigError(
      `CelltypePoissonLoss3d needs the cell type of each neuron (session kwarg group_assignment, 1-based) for every session; missing for ${info ? missing.join(', ') : 'all sessions (no data info)'}.`,
    );
  }
  const all = Object.values(groupAssignment).flat();
  const groupCounts = new Array<number>(Math.max(0, ...all)).fill(0);
  for (const g of all) if (Number.isInteger(g) && g >= 1) groupCounts[g - 1]! += 1;
  return { groupAssignment, groupCounts };
}

export function registerBuiltinLosses(registry: ComponentRegistry<LossBuildContext, ModelLoss>): void {
  const paths = (module: string, cls: string) => [
    `openretina.modules.losses.${cls}`,
    `openretina.modules.measures.${cls}`,
    `openretina.modules.losses.${module}.${cls}`,
  ];
  registry.register(
    'openretina.modules.losses.poisson.PoissonLoss3d',
    z.object(poissonArgs),
    ({ perNeuron: _p, ...o }) => ({ type: 'poisson', ...o }),
    paths('poisson', 'PoissonLoss3d'),
  );
  registry.register(
    'openretina.modules.losses.poisson.L1PoissonLoss3d',
    z.object({ ...poissonArgs, gamma_l1: finite.optional() }),
    ({ perNeuron: _p, ...o }) => ({ type: 'l1Poisson', ...o }),
    paths('poisson', 'L1PoissonLoss3d'),
  );
  registry.register(
    'openretina.modules.losses.poisson.CelltypePoissonLoss3d',
    z.object(poissonArgs),
    ({ perNeuron: _p, ...o }, ctx) => ({ type: 'celltypePoisson', ...o, ...cellTypes(ctx) }),
    paths('poisson', 'CelltypePoissonLoss3d'),
  );
  registry.register('openretina.modules.losses.mse.MSE3d', z.object({}), () => ({ type: 'mse' }), paths('mse', 'MSE3d'));
  registry.register(
    'openretina.modules.losses.correlation.CorrelationLoss3d',
    z.object({ ...poissonArgs, negate: z.boolean().optional() }),
    ({ perNeuron: _p, ...o }) => ({ type: 'correlation', ...o }),
    paths('correlation', 'CorrelationLoss3d'),
  );
}
