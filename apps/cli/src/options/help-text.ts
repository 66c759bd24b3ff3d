// The --help text and the README's command reference, generated from a command's option table.
import type { OptionSpec, OptionTable } from './option-table.js';

/** What a command's help says besides its options. */
export interface HelpSource {
  name: string;
  summary: string;
  /** The usage lines, e.g. `openretina mei --checkpoint C --neuron N --output FILE [options]`. */
  synopsis: readonly string[];
  options: OptionTable;
  /** Paragraph lines after the options (what the command writes, the formats it reads). */
  notes?: readonly string[];
}

/** `--name VALUE` (or `-n, --name VALUE`) as the help shows it. */
export function optionLabel(name: string, spec: OptionSpec): string {
  const value = spec.type === 'string' ? ` ${spec.placeholder ?? 'VALUE'}` : '';
  return `${spec.short === undefined ? '' : `-${spec.short}, `}--${name}${value}`;
}

/** The description with its allowed values, default and deprecated names. */
export function optionDescription(spec: OptionSpec): string {
  const facts: string[] = [];
  if (spec.choices) facts.push(`one of: ${spec.choices.join(', ')}`);
  if (spec.default !== undefined && spec.default !== false) facts.push(`default: ${String(spec.default)}`);
  if (spec.deprecated?.length) facts.push(`deprecated names: ${spec.deprecated.map((d) => `--${d}`).join(', ')}`);
  return facts.length ? `${spec.description} [${facts.join('; ')}]` : spec.description;
}

/** The full `openretina <command> --help` text. */
export function helpText(source: HelpSource): string {
  const rows = Object.entries(source.options).map(([name, spec]) => [optionLabel(name, spec), optionDescription(spec)] as const);
  const width = Math.min(30, Math.max(0, ...rows.map(([label]) => label.length)) + 2);
  const lines = [source.summary, '', 'Usage:', ...source.synopsis.map((s) => `  ${s}`)];
  if (rows.length) {
    lines.push('', 'Options:');
    for (const [label, text] of rows)
      lines.push(label.length + 2 > width ? `  ${label}\n  ${' '.repeat(width)}${text}` : `  ${label.padEnd(width)}${text}`);
  }
  if (source.notes?.length) lines.push('', ...source.notes);
  return lines.join('\n');
}

/** The README's section of one command: synopsis, then a table of its options. */
export function markdownReference(source: HelpSource): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const lines = [`### \`openretina ${source.name}\``, '', source.summary, '', '```text', ...source.synopsis, '```'];
  const rows = Object.entries(source.options).map(([name, spec]) => [
    `\`${cell(optionLabel(name, spec))}\``,
    cell(optionDescription(spec)),
  ]);
  if (rows.length) {
    // columns padded as the formatter (Biome) writes Markdown tables, so that formatting leaves the reference as is
    const width = [0, 1].map((i) => Math.max(i === 0 ? 6 : 7, ...rows.map((r) => r[i]!.length)));
    const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
    lines.push('', row(['Option', 'Meaning']), row(width.map((w) => '-'.repeat(w))));
    for (const r of rows) lines.push(row(r));
  }
  return lines.join('\n');
}

/** The markers around the generated command reference in the CLI's README. */
export const REFERENCE_MARKERS = [
  '<!-- cli-reference:start (generated: node apps/cli/scripts/cli-reference.mjs) -->',
  '<!-- cli-reference:end -->',
] as const;

/** The README's command reference of these commands, between its markers. */
export function cliReference(sources: readonly HelpSource[]): string {
  return [REFERENCE_MARKERS[0], '', ...sources.map((s) => `${markdownReference(s)}\n`), REFERENCE_MARKERS[1]].join('\n');
}
