import { GRAPH_OPSET } from '../graph-builder.js';
import type { LayerOrder } from '../engine/forward-graph.js';

/*
 * What an ONNX export is asked for (the conv form, the session, the gemm form's block sizes) and the fixed names and
 * opset of the graphs it writes.
 */

/** The stimulus length the `gemm` form's temporal blocks are sized for (OpenRetina's training chunk). */
export const GEMM_REFERENCE_FRAMES = 50;

/** Opset of the exported graphs. */
export const ONNX_OPSET = GRAPH_OPSET;
/** Graph input and output names (those of OpenRetina's PyTorch export). */
export const ONNX_INPUT = 'stimulus';
export const ONNX_OUTPUT = 'responses';

export interface ExportOnnxOptions {
  /** Export one session's readout; without it, every session, concatenated in sorted order (as `forward`). */
  session?: string;
  /**
   * How the space-time separable convolutions are written:
   * - `gemm` (default when the core has no colour squashing, input down-sampling or pooling): each layer as two
   *   batched MatMuls over time blocks (block Toeplitz × spatial placement matrices, see
   *   `engine/forward-graph.ts`), BatchNorm folded; cost linear in the stimulus length; the fastest form on
   *   onnxruntime's CPU provider (bench/RESULTS.md);
   * - `depthwise` (the default otherwise): a grouped spatial Conv, a grouped temporal Conv and a sum over input
   *   channels — exact, few multiply-adds;
   * - `composed`: one dense Conv with the composed `[O, I, L, kh, kw]` kernel, as OpenRetina's forward.
   */
  convForm?: 'gemm' | 'depthwise' | 'composed';
  /**
   * `gemm` form: output frames per temporal block of each layer, as a function of the temporal kernel size and of
   * the layer's output length for a {@link GEMM_REFERENCE_FRAMES}-frame stimulus (default: one block at that length).
   */
  blockFrames?: (kernelSize: number, referenceFrames: number) => number;
  /** `gemm` form: the order of the two stages per layer (default: spatial first for < 8 input channels). */
  layerOrders?: readonly LayerOrder[];
  /** Graph name (default `openretina`). */
  name?: string;
}
