#!/usr/bin/env node
import nodeModule from 'node:module';
import { reportFailure } from './errors.js';
import { relaunchWithHugePages } from './huge-pages.js';

// Heavy commands start again with huge pages for malloc (huge-pages.ts); first, before anything else is loaded.
relaunchWithHugePages();

// Node ≥ 22.1 keeps the compiled code of the modules a run loads in a cache (the OS temp folder, or
// NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off): ~15 % less CPU to load the CLI's modules on
// Node 24. It must be on before they load, hence the dynamic import below. Older Node has no such function.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const debug = process.argv.includes('--debug');

// `openretina --help | head -1` closes the pipe before the CLI has written everything: stop quietly, as Unix tools do,
// instead of dying on an unhandled EPIPE (Node ≥ 22 raises it on the stream; other write errors still surface).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
import('./cli-main.js')
  .then(({ runCli }) => runCli(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // runCli reports its failures itself; this is the last line of defence (a failure in the reporting, or in loading the CLI)
      process.exitCode = reportFailure(error, (line) => process.stderr.write(`${line}\n`), debug);
    },
  );
