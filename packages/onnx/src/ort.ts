// The parts of onnxruntime (`onnxruntime-node` or `onnxruntime-web`) this package uses: structural types, so the
// package type-checks and loads without either runtime installed.

/** A tensor as onnxruntime returns it. */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}
/** An `InferenceSession`. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
  release?(): Promise<void>;
}
/** The onnxruntime module: `import * as ort from 'onnxruntime-web'`, or `loadOnnxRuntimeNode()`. */
export interface OrtLike {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
}
