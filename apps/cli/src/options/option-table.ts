// One table per command: the parser (node:util parseArgs), the checks of enum values and the --help text are all
// generated from it, so what a command accepts and what it documents cannot drift apart.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/** One option of a command. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-letter alias (`-o`). */
  short?: string;
  /** The value when the option is not given (shown in the help). */
  default?: string | boolean;
  /** The value's name in the help (`DIR`, `N`); default `VALUE`. */
  placeholder?: string;
  /** One line: what the option does. */
  description: string;
  /** The only values accepted (listed in the help; anything else is a usage error). */
  choices?: readonly string[];
  /** Old names still accepted, each with a `warning: --old is deprecated, use --new` line. */
  deprecated?: readonly string[];
}

/** A command's options by their long name (without `--`). */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** What {@link parseOptions} returns: values under the canonical names, defaults filled in. */
export interface ParsedOptions {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** `key=value` (Hydra) overrides, in order, when the command takes them. */
  overrides: string[];
}

export interface ParseOptionsSettings {
  /** Whether bare words are positional arguments (`create-data DIR`). */
  positionals?: boolean;
  /** Whether bare words are Hydra overrides (`train ... key=value`), in any order among the options. */
  overrides?: boolean;
  /** Where the deprecation warnings go (a line each). */
  warn?: (line: string) => void;
}

/** The `parseArgs` options of a table: every canonical and deprecated name (defaults are applied after aliases). */
export function parserOptions(table: OptionTable): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(table)) {
    options[name] = spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
    for (const old of spec.deprecated ?? []) options[old] = { type: spec.type };
  }
  return options;
}

/** Every long flag the parser of a table accepts (canonical and deprecated), with `--`. */
export function acceptedFlags(table: OptionTable): string[] {
  return Object.keys(parserOptions(table)).map((n) => `--${n}`);
}

/** `a, b or c`. */
export function listWords(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** Splits options (with their values) from `key=value` overrides; a switch takes no value. */
function splitOverrides(argv: readonly string[], table: OptionTable): { flags: string[]; overrides: string[] } {
  const options = parserOptions(table);
  const isSwitch = (arg: string): boolean => {
    const name = arg.startsWith('--') ? arg.slice(2) : Object.keys(options).find((k) => `-${options[k]!.short}` === arg);
    return name !== undefined && options[name]?.type === 'boolean';
  };
  const flags: string[] = [];
  const overrides: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      overrides.push(a);
      continue;
    }
    flags.push(a);
    if (isSwitch(a) || a.includes('=')) continue;
    if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.push(argv[++i]!);
  }
  return { flags, overrides };
}

/**
 * Parses a command's arguments with its table: unknown options, a value missing, a value given to a switch and a
 * value outside `choices` are {@link UsageError}s (exit code 2); a deprecated name works as its new name and warns
 * once; giving both names with different values is refused.
 */
export function parseOptions(table: OptionTable, argv: readonly string[], settings: ParseOptionsSettings = {}): ParsedOptions {
  const split = settings.overrides ? splitOverrides(argv, table) : { flags: [...argv], overrides: [] };
  const { values: raw, positionals } = parseArgs({
    args: split.flags,
    options: parserOptions(table),
    allowPositionals: settings.positionals === true,
    strict: true,
  });
  const given = raw as Record<string, string | boolean | undefined>;
  const values: ParsedOptions['values'] = {};
  for (const [name, spec] of Object.entries(table)) {
    let value = given[name];
    for (const old of spec.deprecated ?? []) {
      const v = given[old];
      if (v === undefined) continue;
      settings.warn?.(`warning: --${old} is deprecated, use --${name}`);
      if (value !== undefined && value !== v)
        throw new UsageError(`Give --${name} or its deprecated name --${old}, not both (got "${value}" and "${v}").`);
      value = v;
    }
    if (value !== undefined && spec.choices && !spec.choices.includes(String(value)))
      throw new UsageError(`--${name} must be ${listWords(spec.choices)}, got "${value}".`);
    values[name] = value ?? spec.default;
  }
  return { values, positionals, overrides: split.overrides };
}

/** The string value of an option (undefined when not given and without default). */
export function stringValue(parsed: ParsedOptions, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === 'string' ? v : undefined;
}
