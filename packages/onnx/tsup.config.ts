import { packageConfig } from '../../tsup.shared';

export default packageConfig(
  { index: 'src/index.ts', node: 'src/node.ts', internal: 'src/internal.ts' },
  { external: ['onnxruntime-node', 'onnxruntime-web'] },
);
