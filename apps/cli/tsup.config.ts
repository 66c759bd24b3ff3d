import { packageConfig } from '../../tsup.shared';

// trial-process: the child process of one sweep trial (forked by `openretina sweep` and `openretina worker`).
export default packageConfig({ index: 'src/index.ts', cli: 'src/cli.ts', 'trial-process': 'src/sweep/trial-process.ts' });
