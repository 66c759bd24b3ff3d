import { isOpenRetinaError } from '@openretina/contracts';
import { ExitCode, consoleIO, type CliIO, type Command } from './commands.js';
import { createDataCommand } from './create-data-command.js';
import { demoCommand } from './demo-command.js';
import { downloadCommand } from './download-command.js';
import { evalCommand } from './eval-command.js';
import { exportCommand } from './export-command.js';
import { meiCommand } from './mei-command.js';
import { predictCommand } from './predict-command.js';
import { sweepCommand } from './sweep/sweep-command.js';
import { workerCommand } from './sweep/worker-command.js';
import { trainCommand } from './train-command.js';
import { visualizeCommand } from './visualize-command.js';

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
  sweepCommand,
  workerCommand,
];

function help(io: CliIO): void {
  io.out('openretina <command> [options]\n\nCommands:');
  for (const c of commands) io.out(`  ${c.name.padEnd(12)} ${c.summary}`);
  io.out('\nRun `openretina <command> --help` for the options of a command.');
}

/** Runs the CLI with the given arguments and returns the exit code (never calls process.exit). */
export async function runCli(argv: string[], io: CliIO = consoleIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? ExitCode.ok : ExitCode.usage;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`Unknown command "${name}". Commands: ${commands.map((c) => c.name).join(', ')}.`);
    return ExitCode.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.summary}\n\nUsage: ${command.usage}`);
    return ExitCode.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (isOpenRetinaError(error)) {
      io.err(`error [${error.code}]: ${error.message}`);
      return ExitCode.failure;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${error.message}\nUsage: ${command.usage}`);
      return ExitCode.usage;
    }
    throw error;
  }
}
