/** One CLI subcommand: its name, one-line summary, usage text and implementation. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
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
