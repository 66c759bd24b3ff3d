// How a failure reaches the person at the terminal: one `error [CODE]: message` line, never a raw stack trace.
import { isOpenRetinaError } from '@openretina/contracts';
import { ExitCode } from './commands.js';

/** A usage mistake (a missing or unknown option, a bad option value): exit code 2 and the command's usage. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What Node's file-system errors mean, in words a person can act on. */
const SYSTEM_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'the path is a folder, a file was expected',
  ENOENT: 'no such file or folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'the path already exists',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the path is too long',
};

/** The `[CODE]` and message of any thrown value. */
export function describeFailure(error: unknown): { code: string; message: string; exitCode: number } {
  if (error instanceof UsageError) return { code: error.code, message: error.message, exitCode: ExitCode.usage };
  if (isOpenRetinaError(error)) return { code: error.code, message: error.message, exitCode: ExitCode.failure };
  const e = error as { code?: unknown; syscall?: unknown; path?: unknown; dest?: unknown; message?: unknown; name?: unknown };
  if (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'))
    return { code: 'USAGE', message: String(e.message), exitCode: ExitCode.usage };
  if (typeof e?.code === 'string' && typeof e.syscall === 'string') {
    const what = SYSTEM_ERRORS[e.code] ?? String(e.message);
    const path = typeof e.path === 'string' ? ` ${e.path}${typeof e.dest === 'string' ? ` → ${e.dest}` : ''}` : '';
    return { code: e.code, message: `cannot ${e.syscall}${path}: ${what}.`, exitCode: ExitCode.failure };
  }
  if (error instanceof RangeError)
    return { code: 'OPENRETINA_RESOURCE', message: `a size is out of range (${error.message}).`, exitCode: ExitCode.failure };
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'INTERNAL',
    message: `${name}: ${message} (an unexpected failure; rerun with --debug for the stack trace)`,
    exitCode: ExitCode.failure,
  };
}

/** Writes the failure's `error [CODE]: message` line (and the stack with `--debug`) and returns the exit code. */
export function reportFailure(error: unknown, err: (line: string) => void, debug: boolean): number {
  const { code, message, exitCode } = describeFailure(error);
  err(`error [${code}]: ${message}`);
  if (debug && error instanceof Error && error.stack) err(error.stack);
  return exitCode;
}
