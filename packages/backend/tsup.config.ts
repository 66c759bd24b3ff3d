import { packageConfig } from '../../tsup.shared';

// `shims` gives the CJS build an `import.meta.url` (used to locate the installed .wasm binaries).
export default packageConfig(undefined, { shims: true });
