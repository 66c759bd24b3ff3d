// Browser-safe entry of @openretina/formats: binary formats in pure TypeScript (no TF.js). Atomic file writes are in
// '@openretina/formats/node'.
export { float16BitsToNumber, bfloat16BitsToNumber, float16ToFloat32, bfloat16ToFloat32, roundToFloat16 } from './float16.js';
export {
  ELEMENT_TYPES,
  elementType,
  stateElementType,
  torchStorageElementType,
  safetensorsElementType,
  numpyDtype,
  decodeElements,
  toStateArray,
  toFloat32,
} from './dtypes.js';
export type { ElementType, ElementTypeName, NumpyDtype, NumericArray } from './dtypes.js';
export { unpickle } from './pickle/unpickle.js';
export { PyBytes, PyDict, PyGlobal, PyObject, PySet, PyTuple } from './pickle/values.js';
export type { Recogniser, BuildHandler, UnpickleOptions } from './pickle/unpickle.js';
export { serializePickle, pickleOrderedDict, PyFloat, PyPersistentId } from './pickle/writer.js';
export type { SerializePickleOptions } from './pickle/writer.js';
export { ArrayValue, arrayValueFromStrided, contiguousStrides } from './array-value.js';
export type { ReadLimits, StridedView } from './array-value.js';
export {
  readPickle,
  dataRecognisers,
  dataBuildHandler,
  finishNdarrays,
  isKnownInertGlobal,
  pickledIntTuple,
} from './pickle/data-pickle.js';
export type { ReadPickleOptions } from './pickle/data-pickle.js';
export { toPlain, defineOwn } from './plain.js';
export type { InertObject } from './plain.js';
export { parseNpy, parseNpyHeader, serializeNpy, parseNpz } from './npy.js';
export type { NpyArray, NpyData, NpyHeader, NpyWritable } from './npy.js';
export { readSafetensors, writeSafetensors } from './safetensors.js';
