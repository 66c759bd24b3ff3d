import type { CoreReadout } from '@openretina/models';

/*
 * The \`metadata_props\` an exported graph carries (sessions, neurons per session, frames cut, input shape), so that
 * \`OnnxResponseModel\` can run it without the checkpoint.
 */

/** `metadata_props` keys written by {@link exportOnnx}. */
export const ONNX_META = {
  sessions: 'openretina.sessions',
  neuronsPerSession: 'openretina.neurons_per_session',
  framesCut: 'openretina.frames_cut',
  inputShape: 'openretina.input_shape',
} as const;

/** The metadata of an export of \`sessions\` of \`model\` for stimuli of C×H×W. */
export function sessionMetadata(model: CoreReadout, sessions: readonly string[], C: number, H: number, W: number): Record<string, unknown> {
  return {
    [ONNX_META.sessions]: sessions,
    [ONNX_META.neuronsPerSession]: Object.fromEntries(sessions.map((s) => [s, model.readout.numNeurons(s)])),
    [ONNX_META.framesCut]: model.framesCut,
    [ONNX_META.inputShape]: [C, H, W],
  };
}
