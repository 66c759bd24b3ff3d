import { packageConfig } from '../../tsup.shared';

export default packageConfig({ index: 'src/index.ts', cli: 'src/cli.ts' });
