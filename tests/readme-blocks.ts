// Code blocks of the READMEs, for the test that runs them. Kept small on purpose: the fence's language picks the
// blocks, the nearest heading above names them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One fenced code block of a README. */
export interface ReadmeBlock {
  /** The README, relative to the repository root (e.g. `packages/core/README.md`). */
  readonly readme: string;
  /** 1-based line of the first line of code. */
  readonly line: number;
  /** The nearest heading above the block, without its `#`s. */
  readonly heading: string;
  readonly language: string;
  readonly code: string;
}

/** Every fenced block of one README, in order. */
export function markdownBlocks(markdownPath: string, root: string): ReadmeBlock[] {
  const lines = readFileSync(markdownPath, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  let heading = '';
  let open: { language: string; line: number; code: string[] } | null = null;
  lines.forEach((line, i) => {
    if (open === null) {
      if (/^#+ /.test(line)) heading = line.replace(/^#+ /, '').trim();
      const fence = /^```(\S*)\s*$/.exec(line.trim());
      if (fence) open = { language: fence[1]!, line: i + 2, code: [] };
    } else if (line.trim() === '```') {
      blocks.push({ readme: relative(root, markdownPath), line: open.line, heading, language: open.language, code: open.code.join('\n') });
      open = null;
    } else open.code.push(line);
  });
  return blocks;
}

/** The READMEs of the repository: the root's and every package's and app's. */
export function readmePaths(root: string): string[] {
  const nested = ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group))
      .sort()
      .map((name) => join(root, group, name, 'README.md'))
      .filter((path) => existsSync(path)),
  );
  return [join(root, 'README.md'), ...nested];
}

/** The fenced blocks of `language` in the section of `markdownPath` under the heading `heading` (any level), in order. */
export function readmeBlocks(markdownPath: string, heading: string, language = 'ts'): string[] {
  const lines = readFileSync(markdownPath, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '').trim() === heading);
  if (start < 0) throw new Error(`${markdownPath} has no heading "${heading}".`);
  const level = /^#+/.exec(lines[start]!)![0].length;
  const blocks: string[] = [];
  let current: string[] | null = null;
  for (const line of lines.slice(start + 1)) {
    if (current === null) {
      const m = /^#+ /.exec(line);
      if (m && m[0].trim().length <= level) break; // the next section of the same or a higher level
      if (line.trim() === `\`\`\`${language}`) current = [];
    } else if (line.trim() === '```') {
      blocks.push(current.join('\n'));
      current = null;
    } else current.push(line);
  }
  return blocks;
}
