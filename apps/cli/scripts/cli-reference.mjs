#!/usr/bin/env node
// Rewrites the command reference in apps/cli/README.md from the commands' option tables (between its markers).
// Run after `pnpm build`:   node apps/cli/scripts/cli-reference.mjs
// apps/cli/test/cli-reference.test.ts fails while the README's copy differs from the tables.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandReference } from '../dist/index.js';

const readme = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
const text = readFileSync(readme, 'utf8');
const reference = commandReference();
const [start, end] = [reference.split('\n')[0], reference.split('\n').at(-1)];
const from = text.indexOf(start);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error(`${readme} has no ${start} … ${end} section`);
const tmp = `${readme}.tmp`;
writeFileSync(tmp, text.slice(0, from) + reference + text.slice(to + end.length));
renameSync(tmp, readme);
console.log(`wrote the command reference of ${readme}`);
