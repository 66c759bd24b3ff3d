// Checks a command's --help text against the parser of an option table: what the help documents must parse, what
// the parser accepts must be documented. Used on every real command and, to show it fails, on broken tables.
import { acceptedFlags, parseOptions, type OptionTable } from '../src/options/option-table.js';

/** One documented option: its flag, whether the help shows a value, and the values it lists. */
export interface DocumentedOption {
  flag: string;
  takesValue: boolean;
  choices: string[] | undefined;
}

/** The options the `Options:` section of a help text documents. */
export function documentedOptions(help: string): DocumentedOption[] {
  const section = help.split('\nOptions:\n')[1]?.split('\n\n')[0] ?? '';
  const out: DocumentedOption[] = [];
  for (const line of section.split('\n')) {
    const m = /^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)( [^ ]+)?(?: {2,}|$)/.exec(line);
    if (!m) continue;
    const rest = line.slice(m[0].length);
    const next = section.split('\n')[section.split('\n').indexOf(line) + 1] ?? '';
    const text = rest || next; // a long label puts its description on the next line
    const choices = /\[one of: ([^;\]]+)/.exec(text)?.[1]?.split(', ');
    out.push({ flag: m[1]!, takesValue: m[2] !== undefined, choices });
  }
  return out;
}

const UNDOCUMENTED_VALUE = 'not-a-documented-value';

function parses(table: OptionTable, args: string[]): unknown {
  try {
    parseOptions(table, args);
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Every disagreement between a help text and the parser of `table` (empty when they agree). */
export function helpProblems(help: string, table: OptionTable): string[] {
  const problems: string[] = [];
  const documented = documentedOptions(help);
  const flags = new Set(documented.map((d) => d.flag));
  for (const flag of acceptedFlags(table)) {
    if (!flags.has(flag) && !help.includes(flag)) problems.push(`${flag} is accepted but not in the help`);
  }
  for (const d of documented) {
    const name = d.flag.slice(2);
    const args = d.takesValue ? [d.flag, d.choices?.[0] ?? 'x'] : [d.flag];
    const error = parses(table, args);
    if (error) problems.push(`${args.join(' ')} is documented but refused: ${String(error)}`);
    for (const value of d.choices ?? []) {
      const e = parses(table, [d.flag, value]);
      if (e) problems.push(`${d.flag} ${value} is documented but refused: ${String(e)}`);
    }
    const spec = table[name];
    if (spec?.choices) {
      const listed = new Set(d.choices ?? []);
      for (const value of spec.choices) if (!listed.has(value)) problems.push(`${d.flag} ${value} is accepted but not in the help`);
      if (!parses(table, [d.flag, UNDOCUMENTED_VALUE])) problems.push(`${d.flag} ${UNDOCUMENTED_VALUE} is accepted`);
    }
  }
  return problems;
}
