// One CLI grammar: every command's --help (through the real entry, runCli) agrees with its parser, every documented
// value is accepted, an undocumented one is a usage error (exit 2, one `error [USAGE]:` line), deprecated names warn.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commands, runCli } from '../src/index.js';
import { helpText } from '../src/options/help-text.js';
import type { OptionTable } from '../src/options/option-table.js';
import { capture } from './helpers.js';
import { documentedOptions, helpProblems } from './help-check.js';

const scratch = mkdtempSync(join(tmpdir(), 'openretina-help-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Arguments that make a command stop with a usage error right after parsing, so that walking its flags runs nothing
 * (the other commands stop on a required option that the walk leaves out).
 */
const STOP_AFTER_PARSE: Record<string, string[]> = {
  demo: ['--frames', '1'],
  'create-data': ['--height', '1'],
  worker: ['--concurrency', '0'],
};

/** A value for a flag that names no existing file or folder (nothing is read or written). */
const absent = (flag: string) => join(scratch, `absent-${flag.slice(2)}`);

async function run(args: string[]) {
  const io = capture();
  const code = await runCli(args, io);
  return { code, io, errors: io.errors.join('\n') };
}

/** What node:util's parser says of an unknown option or a missing/extra value. */
const PARSE_FAILURE = /Unknown option|argument is ambiguous|does not take an argument|argument missing/;

describe('help-check finds a help text and a parser that disagree', () => {
  const source = (options: OptionTable) => helpText({ name: 'x', summary: 'x', synopsis: ['openretina x'], options });
  const mode = (choices: string[]): OptionTable => ({ mode: { type: 'string', choices, description: 'a mode' } });

  it('agrees with itself', () => {
    expect(helpProblems(source(mode(['a', 'b'])), mode(['a', 'b']))).toEqual([]);
  });
  it('an accepted flag missing from the help', () => {
    const parser: OptionTable = { ...mode(['a']), quiet: { type: 'boolean', description: 'no output' } };
    expect(helpProblems(source(mode(['a'])), parser)).toEqual(['--quiet is accepted but not in the help']);
  });
  it('a documented flag the parser does not know', () => {
    const help = source({ ...mode(['a']), quiet: { type: 'boolean', description: 'no output' } });
    expect(helpProblems(help, mode(['a'])).join('\n')).toMatch(/--quiet is documented but refused/);
  });
  it('a value accepted but not documented, and one documented but refused', () => {
    expect(helpProblems(source(mode(['a'])), mode(['a', 'b']))).toEqual(['--mode b is accepted but not in the help']);
    expect(helpProblems(source(mode(['a', 'b'])), mode(['a'])).join('\n')).toMatch(/--mode b is documented but refused/);
  });
  it('a switch documented as taking a value', () => {
    const help = source({ fast: { type: 'string', description: 'go fast' } });
    expect(helpProblems(help, { fast: { type: 'boolean', description: 'go fast' } }).join('\n')).toMatch(
      /--fast x is documented but refused/,
    );
  });
});

describe.each(commands.map((c) => [c.name, c] as const))('openretina %s --help', (name, command) => {
  it('documents exactly what its parser accepts', async () => {
    const { code, io } = await run([name, '--help']);
    expect(code).toBe(0);
    const help = io.lines.join('\n');
    expect(help).toBe(command.usage);
    expect(helpProblems(help, command.options)).toEqual([]);
    for (const line of command.synopsis) expect(help).toContain(line);
  });

  it('the command parses every documented flag and value with its table (no unknown option, no refused value)', async () => {
    const stop = STOP_AFTER_PARSE[name] ?? [];
    for (const d of documentedOptions(command.usage)) {
      const values = d.takesValue ? (d.choices ?? [absent(d.flag)]) : [undefined];
      for (const value of values) {
        const args = [name, d.flag, ...(value === undefined ? [] : [value]), ...stop];
        const { errors } = await run(args);
        expect(errors, args.join(' ')).not.toMatch(PARSE_FAILURE);
        if (value !== undefined)
          expect(errors, args.join(' ')).not.toContain(`${d.flag} must be ${listed(d.choices ?? [])}, got "${value}"`);
      }
    }
  });

  it('refuses an unknown option and every undocumented value: exit 2 and one error [USAGE] line', async () => {
    const unknown = await run([name, '--no-such-option']);
    expect(unknown.code).toBe(2);
    expect(unknown.io.errors[0]).toMatch(/^error \[USAGE\]: .*--no-such-option/);
    for (const d of documentedOptions(command.usage).filter((o) => o.choices)) {
      const { code, io } = await run([name, d.flag, 'not-a-documented-value']);
      expect(code, d.flag).toBe(2);
      expect(io.errors[0]).toBe(`error [USAGE]: ${d.flag} must be ${listed(d.choices!)}, got "not-a-documented-value".`);
    }
  });
});

function listed(words: string[]): string {
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

describe('deprecated names', () => {
  it.each([
    ['visualize', '--save-folder', '--output'],
    ['visualize', '--model-path', '--checkpoint'],
    ['visualize', '--time-steps-stimulus', '--frames'],
  ])('%s %s works as %s with one warning line', async (name, old, now) => {
    // without --checkpoint (or with it) the command stops at a required option: the warning comes first
    const { code, io } = await run([name, old, absent(old)]);
    expect(code).toBe(2);
    expect(io.errors[0]).toBe(`warning: ${old} is deprecated, use ${now}`);
    expect(io.errors.filter((l) => l.startsWith('warning:'))).toHaveLength(1);
    const both = await run([name, old, 'a', now, 'b']);
    expect(both.code).toBe(2);
    expect(both.errors).toContain(`error [USAGE]: Give ${now} or its deprecated name ${old}, not both`);
  });

  it('every command that writes names its file or folder with --output', async () => {
    for (const name of ['train', 'eval', 'predict', 'mei', 'visualize', 'export', 'demo', 'create-data'])
      expect(Object.keys(commands.find((c) => c.name === name)!.options), name).toContain('output');
    // train --output is paths.output_dir: giving both is a usage error, as is --output with --resume
    const both = await run(['train', '--config', 'hdf5', '--output', absent('--a'), `paths.output_dir=${absent('--b')}`]);
    expect(both.code).toBe(2);
    expect(both.io.errors[0]).toBe('error [USAGE]: Give --output DIR or paths.output_dir=DIR, not both.');
    const resume = await run(['train', '--resume', absent('--run'), '--output', absent('--c')]);
    expect(resume.code).toBe(2);
    expect(resume.io.errors[0]).toMatch(/^error \[USAGE\]: --resume RUN_DIR continues a run with its own config\.yaml/);
  });
});
