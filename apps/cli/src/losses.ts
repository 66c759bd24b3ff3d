// `model.loss` / `model.evaluation_loss`: OpenRetina's loss classes, built by the models registry.
import type { DataInfo } from '@openretina/contracts';
import { buildLoss, type ModelLoss } from '@openretina/models';

/** The model's training and evaluation losses (the model's defaults when a section is absent). */
export function experimentLosses(
  model: { loss?: Record<string, unknown> | null | undefined; evaluation_loss?: Record<string, unknown> | null | undefined },
  dataInfo: DataInfo,
): { loss?: ModelLoss; evaluationLoss?: ModelLoss } {
  return {
    ...(model.loss == null ? {} : { loss: buildLoss(model.loss, { dataInfo }, 'model.loss') }),
    ...(model.evaluation_loss == null ? {} : { evaluationLoss: buildLoss(model.evaluation_loss, { dataInfo }, 'model.evaluation_loss') }),
  };
}
