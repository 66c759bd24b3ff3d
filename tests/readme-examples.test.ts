// The "write your own" examples of the core and readout READMEs run as written: a contract-only core / readout
// inside a CoreReadout, one epoch of train(), saveCheckpoint and loadCheckpoint.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readmeBlocks } from './readme-blocks.js';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
// Inside the repository, so the blocks' imports resolve to the workspace packages (the root's devDependencies).
const scratch = mkdtempSync(join(root, 'tests', '.readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs a README block as a module and returns what it printed with console.log. */
async function run(name: string, code: string): Promise<string[]> {
  const file = join(scratch, `${name}.ts`);
  writeFileSync(file, code);
  const printed: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    spy.mockRestore();
  }
  return printed;
}

describe('README examples', () => {
  it.each([
    ['core', 'packages/core/README.md', 'Write your own core'],
    ['readout', 'packages/readout/README.md', 'Write your own readout'],
  ])('%s: "%s" trains for an epoch and reloads from its checkpoint', async (name, readme, heading) => {
    const blocks = readmeBlocks(join(root, readme), heading);
    expect(blocks).toHaveLength(1);
    const printed = await run(name, blocks[0]!);
    const loss = printed.find((l) => l.startsWith('train_total_loss '));
    expect(Number(loss?.split(' ')[1])).toBeGreaterThan(0);
    expect(printed).toContain('reloaded checkpoint gives the same responses: true');
  });
});
