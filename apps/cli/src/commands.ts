import { helpText, type HelpSource } from './options/help-text.js';

/**
 * One CLI subcommand: its name, summary, synopsis, option table (from which its parser and --help are generated)
 * and implementation.
 */
export interface Command extends HelpSource {
  /** The full --help text (generated from the table). */
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** A command whose `usage` is generated from its option table. */
export function defineCommand(command: HelpSource & { run: Command['run'] }): Command {
  return { ...command, usage: helpText(command) };
}

/** Where a command writes; tests capture it. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
}

export const consoleIO: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit codes of the CLI. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
