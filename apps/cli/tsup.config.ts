import { packageConfig } from '../../tsup.shared';

// trial-process: the child process of one sweep trial (forked by `openretina sweep` and `openretina worker`).
// huge-pages: the bin's relaunch alone, for scripts that stand in for the bin (bench/epoch-phases.mjs) and must run it
// before they load the CLI.
export default packageConfig({
  index: 'src/index.ts',
  cli: 'src/cli.ts',
  'trial-process': 'src/sweep/trial-process.ts',
  'huge-pages': 'src/huge-pages.ts',
});
