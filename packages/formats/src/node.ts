// Node entry of @openretina/formats: everything of the browser-safe entry plus atomic file writes.
export * from './index.js';
export {
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  writeJsonAtomicSync,
  produceFileAtomic,
  replaceDirectoryAtomic,
} from './node/atomic-write.js';
export type { AtomicWriteOptions } from './node/atomic-write.js';
