// The README's command reference is the one the option tables generate (node apps/cli/scripts/cli-reference.mjs).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandReference, commands } from '../src/index.js';

describe('README command reference', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  it('is the generated one (rerun scripts/cli-reference.mjs after changing an option table)', () => {
    expect(readme).toContain(commandReference());
  });
  it('lists every command and every flag', () => {
    for (const c of commands) {
      expect(readme).toContain(`### \`openretina ${c.name}\``);
      for (const name of Object.keys(c.options)) expect(readme, `${c.name} --${name}`).toContain(`--${name}`);
    }
  });
});
