#!/usr/bin/env node
import { runCli } from './cli-main.js';
import { reportFailure } from './errors.js';

const debug = process.argv.includes('--debug');
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli reports its failures itself; this is the last line of defence (a failure in the reporting)
    process.exitCode = reportFailure(error, (line) => process.stderr.write(`${line}\n`), debug);
  },
);
