import { packageConfig } from '../../tsup.shared';

// `shims` gives the CJS build an `import.meta.url` (the node entry locates the bundled font with it).
export default packageConfig({ index: 'src/index.ts', node: 'src/node.ts' }, { shims: true });
