// Node entry of @openretina/formats: everything of the browser-safe entry plus atomic file writes and their crash recovery.
export * from './index.js';
export {
  tempPathFor,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  writeJsonAtomicSync,
  produceFileAtomic,
  replaceDirectoryAtomic,
  replaceDirectoryAtomicSync,
} from './node/atomic-write.js';
export type { AtomicWriteOptions } from './node/atomic-write.js';
export { recoverDirectory } from './node/directory-recovery.js';
export type { DirectoryRecovery } from './node/directory-recovery.js';
