// Code blocks of a README, for tests that run them. Kept small on purpose: a heading picks the section, the
// language picks the blocks.
import { readFileSync } from 'node:fs';

/** The fenced code blocks of `language` in the section of `markdownPath` under the heading `heading` (any level), in order. */
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
