import { FileFormatError } from '@openretina/contracts';
import type { LegacyDataInfo, LegacySessionInfo } from '@openretina/models';
import { ArrayValue, type ReadPickleOptions, readPickle, toPlain } from '@openretina/formats';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof ArrayValue) && !ArrayBuffer.isView(v);
}

function toNumber(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof ArrayValue && v.data.length === 1) return Number(v.data[0]);
  throw new FileFormatError(`${what} must be a number, got ${JSON.stringify(v)}.`);
}

function toFloats(v: unknown, what: string): Float32Array {
  if (v instanceof ArrayValue) return Float32Array.from(v.data as ArrayLike<number | bigint>, Number);
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Float32Array.from(v as number[]);
  throw new FileFormatError(`${what} must be an array of numbers.`);
}

/**
 * Reads a `data_info_<seed>.pkl` (a plain pickle: `{session: {input_dimensions, input_channels, output_dimension,
 * mean_response, roi_coords}}` with numpy values) with the safe pickle reader. Returns the typed info and the whole
 * content as plain data (numpy arrays as {@link ArrayValue}s).
 */
export function readLegacyDataInfo(
  bytes: Uint8Array,
  options: ReadPickleOptions = {},
): { dataInfo: LegacyDataInfo; raw: Record<string, unknown> } {
  const source = options.source ?? 'data_info';
  const raw = toPlain(readPickle(bytes, { ...options, source }));
  if (!isRecord(raw)) throw new FileFormatError(`${source}: expected a dict of sessions.`);
  const out: Record<string, LegacySessionInfo> = {};
  for (const [session, entry] of Object.entries(raw)) {
    if (!isRecord(entry)) throw new FileFormatError(`${source}: the entry of session "${session}" is not a dict.`);
    const at = (k: string): unknown => {
      if (!(k in entry)) throw new FileFormatError(`${source}: session "${session}" has no "${k}".`);
      return entry[k];
    };
    const dims = at('input_dimensions');
    const inputDimensions = (
      Array.isArray(dims) ? dims : dims instanceof ArrayValue ? Array.from(dims.data as ArrayLike<number | bigint>) : []
    ).map((d, i) => toNumber(d, `${source}: ${session}.input_dimensions[${i}]`));
    const info: LegacySessionInfo = {
      inputDimensions,
      inputChannels: toNumber(at('input_channels'), `${source}: ${session}.input_channels`),
      outputDimension: toNumber(at('output_dimension'), `${source}: ${session}.output_dimension`),
      meanResponse: toFloats(at('mean_response'), `${source}: ${session}.mean_response`),
      ...('roi_coords' in entry ? { roiCoords: toFloats(entry.roi_coords, `${source}: ${session}.roi_coords`) } : {}),
    };
    Object.defineProperty(out, session, { value: info, enumerable: true, writable: true, configurable: true });
  }
  return { dataInfo: out, raw };
}
