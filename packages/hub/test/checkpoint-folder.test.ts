import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@openretina/contracts';
import { writeCheckpointFolder } from '../src/node.js';

describe('writeCheckpointFolder (a checkpoint folder from encoded files)', () => {
  const root = mkdtempSync(join(tmpdir(), 'hub-ckpt-folder-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const files = { weights: Uint8Array.of(1, 2, 3), cardJson: '{"format":"x"}\n' };

  it('writes the two files and the extra ones in one swap, replacing an older folder', () => {
    const dir = join(root, 'last');
    writeCheckpointFolder(dir, { weights: Uint8Array.of(9), cardJson: '{}\n' }, { 'old.json': 'old' });
    writeCheckpointFolder(dir, files, { 'state.json': '{"epoch":3}' });
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'model.safetensors', 'state.json']);
    expect([...readFileSync(join(dir, 'model.safetensors'))]).toEqual([1, 2, 3]);
    expect(readFileSync(join(dir, 'model.json'), 'utf8')).toBe(files.cardJson);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe('{"epoch":3}');
    expect(readdirSync(root)).toEqual(['last']); // no staging or aside folder left
  });

  it("refuses an extra file named as the checkpoint's own or outside the folder, before writing anything", () => {
    for (const name of ['model.json', 'model.safetensors', '../escape.json', 'sub/state.json', '..', '.', '']) {
      let error: unknown;
      try {
        writeCheckpointFolder(join(root, 'refused'), files, { [name]: 'x' });
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(name === '' ? '""' : name);
    }
    expect(readdirSync(root)).toEqual(['last']);
  });
});
