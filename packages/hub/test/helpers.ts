import * as tf from '@tensorflow/tfjs-core';
import { ncdhwToNdhwc, ref } from '@openretina/test-utils/fixtures';

/** A reference video tensor converted to channels-last. */
export function refVideo(name: string): tf.Tensor5D {
  const { data, shape } = ncdhwToNdhwc(ref(name));
  return tf.tensor5d(data, shape);
}

/** Builds `(B, T, N)` output checks: every eval/out fixture against a predictor. */
export const SESSIONS = ['session_1', 'session_2', 'session_3'] as const;
