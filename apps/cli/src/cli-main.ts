import { ExitCode, consoleIO, type CliIO, type Command } from './commands.js';
import { createDataCommand } from './create-data-command.js';
import { demoCommand } from './demo-command.js';
import { downloadCommand } from './download-command.js';
import { evalCommand } from './eval-command.js';
import { reportFailure, UsageError } from './errors.js';
import { exportCommand } from './export-command.js';
import { meiCommand } from './mei-command.js';
import { predictCommand } from './predict-command.js';
import { presetsCommand } from './presets-command.js';
import { sweepCommand } from './sweep/sweep-command.js';
import { workerCommand } from './sweep/worker-command.js';
import { trainCommand } from './train-command.js';
import { cliVersion } from './version.js';
import { visualizeCommand } from './visualize-command.js';
import { cliReference } from './options/help-text.js';

/** Every subcommand of `openretina`. */
export const commands: Command[] = [
  trainCommand,
  evalCommand,
  createDataCommand,
  demoCommand,
  predictCommand,
  exportCommand,
  downloadCommand,
  meiCommand,
  visualizeCommand,
  presetsCommand,
  sweepCommand,
  workerCommand,
];

/** The command reference (synopsis and option table of every command) as Markdown, as the README holds it. */
export function commandReference(): string {
  return cliReference(commands);
}

function help(io: CliIO): void {
  io.out('openretina <command> [options]\n\nCommands:');
  for (const c of commands) io.out(`  ${c.name.padEnd(12)} ${c.summary}`);
  io.out('\nRun `openretina <command> --help` for the options of a command; `openretina --version` for the version.');
  io.out('--debug (any command): print the stack trace of a failure.');
}

/**
 * Runs the CLI with the given arguments and returns the exit code (never calls process.exit). Every failure is one
 * `error [CODE]: message` line: exit code 2 for usage errors, 1 for the rest; `--debug` adds the stack trace.
 */
export async function runCli(argv: string[], io: CliIO = consoleIO): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(cliVersion());
    return ExitCode.ok;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? ExitCode.ok : ExitCode.usage;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`error [USAGE]: Unknown command "${name}". Commands: ${commands.map((c) => c.name).join(', ')}.`);
    return ExitCode.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return ExitCode.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const code = reportFailure(error, io.err, debug);
    if (code === ExitCode.usage)
      io.err(`Usage: ${command.synopsis.join('\n       ')}\n(\`openretina ${command.name} --help\` lists every option)`);
    return code;
  }
}

export { UsageError };
