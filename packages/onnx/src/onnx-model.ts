import * as tf from '@tensorflow/tfjs-core';
import {
  FileFormatError,
  SPECIFICATION_VERSION,
  ShapeError,
  UnknownSessionError,
  formatShape,
  type ResponseModel,
  type StimulusSpec,
} from '@openretina/contracts';
import { ONNX_META } from './export/metadata.js';
import { readOnnxInfo } from './export/read-onnx-info.js';
import type { OrtLike, OrtSessionLike } from './ort.js';

export interface OnnxModelOptions {
  /** Session name of a graph without our metadata (e.g. one exported from PyTorch OpenRetina). Default `default`. */
  sessionName?: string;
  /** onnxruntime execution providers, e.g. `['cuda', 'cpu']` or `['webgpu', 'wasm']` (default: the runtime's). */
  executionProviders?: readonly string[];
  /** Further onnxruntime session options. */
  sessionOptions?: Record<string, unknown>;
}

function parseMeta<T>(meta: Record<string, string>, key: string): T | undefined {
  const v = meta[key];
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as T;
  } catch {
    return undefined;
  }
}

/**
 * A response model backed by an ONNX graph whose input is OpenRetina's `(batch, C, time, H, W)` stimulus and whose
 * output is `(batch, time_out, N)`: graphs written by {@link exportOnnx} and by OpenRetina's PyTorch export.
 * `predict` takes and returns TF.js tensors channels-last (`[B, T, H, W, C]` → `[B, T − framesCut, N]`), as every
 * `ResponseModel`. Inference only (no gradients).
 */
export class OnnxResponseModel implements ResponseModel {
  readonly specificationVersion = SPECIFICATION_VERSION;
  readonly stimulus: StimulusSpec;
  readonly sessions: readonly string[];
  readonly neuronsPerSession: Readonly<Record<string, number>>;
  readonly framesCut: number;
  private readonly offsets: Record<string, number>;
  private disposed = false;

  private constructor(
    private readonly session: OrtSessionLike,
    private readonly ort: OrtLike,
    private readonly inputName: string,
    private readonly outputName: string,
    init: { stimulus: StimulusSpec; sessions: string[]; neurons: Record<string, number>; framesCut: number },
  ) {
    this.stimulus = init.stimulus;
    this.sessions = init.sessions;
    this.neuronsPerSession = init.neurons;
    this.framesCut = init.framesCut;
    this.offsets = {};
    let o = 0;
    for (const s of init.sessions) {
      this.offsets[s] = o;
      o += init.neurons[s]!;
    }
  }

  /** Opens an ONNX model with the given onnxruntime module (`onnxruntime-node`, `onnxruntime-web`). */
  static async create(ort: OrtLike, bytes: Uint8Array, options: OnnxModelOptions = {}): Promise<OnnxResponseModel> {
    let info: ReturnType<typeof readOnnxInfo>;
    try {
      info = readOnnxInfo(bytes);
    } catch (cause) {
      throw new FileFormatError(`Not a valid ONNX model (${(cause as Error).message}).`, { cause });
    }
    const input = info.inputs[0];
    const output = info.outputs[0];
    if (info.inputs.length !== 1 || !input || !output || input.dims.length !== 5 || output.dims.length !== 3) {
      throw new ShapeError(
        `An OpenRetina ONNX model has one input (batch, C, time, H, W) and one output (batch, time, N); got inputs ${JSON.stringify(info.inputs)} and outputs ${JSON.stringify(info.outputs)}.`,
      );
    }
    const [, c, , h, w] = input.dims;
    if (typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
      throw new ShapeError(`The ONNX input needs fixed channel, height and width dims, got ${JSON.stringify(input.dims)}.`);
    }
    const sessionOptions = {
      ...(options.sessionOptions ?? {}),
      ...(options.executionProviders ? { executionProviders: [...options.executionProviders] } : {}),
    };
    const session = await ort.InferenceSession.create(bytes, sessionOptions);
    const metaSessions = parseMeta<string[]>(info.metadata, ONNX_META.sessions);
    const metaNeurons = parseMeta<Record<string, number>>(info.metadata, ONNX_META.neuronsPerSession);
    let framesCut = parseMeta<number>(info.metadata, ONNX_META.framesCut);
    let n = output.dims[2];
    if (framesCut === undefined || typeof n !== 'number') {
      // a graph without our metadata (e.g. PyTorch's, whose neuron dim may be symbolic): probe it with zeros
      const probe = await probeOutput(ort, session, input.name, output.name, [c, h, w]);
      framesCut ??= probe.framesCut;
      n = probe.neurons;
    }
    let sessions: string[];
    let neurons: Record<string, number>;
    if (metaSessions && metaNeurons) {
      sessions = metaSessions;
      neurons = metaNeurons;
    } else {
      sessions = [options.sessionName ?? 'default'];
      neurons = { [sessions[0]!]: n };
    }
    return new OnnxResponseModel(session, ort, input.name, output.name, {
      stimulus: { channels: c, height: h, width: w },
      sessions,
      neurons,
      framesCut,
    });
  }

  stimulusShape(frames: number, batch = 1): [number, number, number, number, number] {
    return [batch, frames, this.stimulus.height, this.stimulus.width, this.stimulus.channels];
  }

  /** `[B, T, H, W, C]` → `[B, T − framesCut, N]` (one session, or all sessions concatenated in sorted order). */
  async predict(x: tf.Tensor5D, options: { session?: string } = {}): Promise<tf.Tensor3D> {
    const { channels, height, width } = this.stimulus;
    if (x.rank !== 5 || x.shape[2] !== height || x.shape[3] !== width || x.shape[4] !== channels) {
      throw new ShapeError(
        `The model expects a stimulus [batch, time, ${height}, ${width}, ${channels}] (channels last), got ${formatShape(x.shape)}.`,
      );
    }
    if (options.session !== undefined && !(options.session in this.offsets)) throw new UnknownSessionError(options.session, this.sessions);
    const [b, t] = x.shape;
    // channels-last → (B, C, T, H, W) on the host copy (a 5-D transpose is slow on TF.js's wasm backend)
    const data = channelsFirst((await x.data()) as Float32Array, b, t * height * width, channels);
    const result = await this.session.run({ [this.inputName]: new this.ort.Tensor('float32', data, [b, channels, t, height, width]) });
    const out = result[this.outputName];
    if (!out) throw new FileFormatError(`The ONNX model returned no "${this.outputName}".`);
    const [ob, ot, on] = out.dims as [number, number, number];
    const y = tf.tensor3d(out.data as Float32Array, [ob, ot, on]);
    if (options.session === undefined || this.sessions.length === 1) return y;
    const sliced = tf.slice(y, [0, 0, this.offsets[options.session]!], [ob, ot, this.neuronsPerSession[options.session]!]);
    y.dispose();
    return sliced;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.session.release?.();
  }
}

/** `[B, S, C]` → `[B, C, S]`. */
function channelsFirst(src: Float32Array, B: number, S: number, C: number): Float32Array {
  if (C === 1) return src;
  const out = new Float32Array(src.length);
  for (let b = 0; b < B; b++) {
    const base = b * S * C;
    for (let c = 0; c < C; c++) {
      const o = base + c * S;
      for (let s = 0, i = base + c; s < S; s++, i += C) out[o + s] = src[i]!;
    }
  }
  return out;
}

/** Frames cut and neurons of a graph without metadata: run zeros of growing length until the graph accepts them. */
async function probeOutput(
  ort: OrtLike,
  session: OrtSessionLike,
  input: string,
  output: string,
  [c, h, w]: number[],
): Promise<{ framesCut: number; neurons: number }> {
  let lastError: unknown;
  for (const t of [64, 128, 256, 512, 1024]) {
    try {
      const r = await session.run({ [input]: new ort.Tensor('float32', new Float32Array(c! * t * h! * w!), [1, c!, t, h!, w!]) });
      const dims = r[output]?.dims;
      if (dims && dims.length === 3) return { framesCut: t - dims[1]!, neurons: dims[2]! };
    } catch (error) {
      lastError = error;
    }
  }
  throw new FileFormatError(
    `Could not determine the frames the ONNX model cuts (a probe run failed: ${(lastError as Error | undefined)?.message ?? 'no output'}).`,
  );
}
